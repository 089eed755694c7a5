// The Kotlin bindings as an Android app uses them, against the real server
// (started by tests/python/inspectorate.py, which passes its URL and the
// enrolment codes in the environment): the same scenario as the Python tests.
package vn.kiemtra.example

import java.io.File
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import uniffi.kiemtra_mobile.CancelToken
import uniffi.kiemtra_mobile.DelegationMember
import uniffi.kiemtra_mobile.KiemtraException
import uniffi.kiemtra_mobile.KiemtraStore
import uniffi.kiemtra_mobile.MinutesInput
import uniffi.kiemtra_mobile.SignerKey
import uniffi.kiemtra_mobile.Status
import uniffi.kiemtra_mobile.SyncListener
import uniffi.kiemtra_mobile.SyncPhase
import uniffi.kiemtra_mobile.SyncProgress
import uniffi.kiemtra_mobile.AnswerValue
import uniffi.kiemtra_mobile.parseEnrolLink
import uniffi.kiemtra_mobile.verifyMinutes

private fun env(name: String): String = System.getenv(name) ?: error("$name is not set: run through tests/python/inspectorate.py")

/** One world of the launcher: an inspection with its two inspectors and their codes. */
private class World(name: String) {
    val url = env("KIEMTRA_URL")
    val inspection = env("KIEMTRA_${name}_INSPECTION")
    val lan = env("KIEMTRA_${name}_LAN")
    val hung = env("KIEMTRA_${name}_HUNG")
    val lanCode = env("KIEMTRA_${name}_LAN_CODE")
    val hungCode = env("KIEMTRA_${name}_HUNG_CODE")
}

private fun storeDir(name: String): String = File(env("KIEMTRA_WORKDIR"), "kotlin-$name").path
private fun photo(i: Int = 0): ByteArray = File(env("KIEMTRA_PHOTOS").split(":")[i]).readBytes()

class KiemtraAppTest {
    @Test
    fun wholeInspectionSyncedSignedAndVerified() = runBlocking<Unit> {
        val w = World("WALK")
        val lanKey = AppKeyStore()
        val hungKey = AppKeyStore()
        // guide:start open
        val lan = KiemtraStore.openWithKeyStore(storeDir("walk-lan"), lanKey)
        val me = lan.enrol(w.url, w.lanCode, "Điện thoại của Lan", null)
        // guide:end open
        assertEquals(w.lan, me.id)
        val hung = KiemtraStore.openWithKeyStore(storeDir("walk-hung"), hungKey)
        hung.enrol(w.url, w.hungCode, "Điện thoại của Hùng", null)

        // Pull the assignment, with a progress listener.
        val progress = ProgressRecorder()
        val pulled = lan.sync(progress)
        assertTrue(pulled.pulled > 0uL)
        // Photos first: the server takes no operation before the photos it refers to.
        assertEquals(SyncPhase.UPLOADING_PHOTOS, progress.seen.first().phase)
        assertEquals(SyncPhase.DONE, progress.seen.last().phase)
        assertEquals(Status.DRAFT, lan.inspection(w.inspection).status)

        val screen = InspectionScreen(lan, w.inspection)
        screen.start()
        screen.answerAll(nonCompliant = setOf("D5"))
        val added = screen.addPhoto("F2", photo(), "Tủ điện không nối đất")
        assertEquals(1, lan.photos(w.inspection).size)

        // The non-compliant answer proposes a violation that cites the law.
        val d5 = lan.violations(w.inspection).single { it.itemCode == "D5" }
        assertTrue(d5.legalBasis.isNotEmpty())
        assertTrue(d5.legalBasis.first().instrument.isNotBlank())
        assertTrue(d5.requirement.isNotBlank())

        val report = screen.sync(progress)
        assertEquals(0uL, report.refused)
        assertEquals(2uL, report.photosUploaded)
        assertTrue(lan.pendingOperations().isEmpty())

        lan.closeFindings(w.inspection)
        val keys = listOf(SignerKey(w.lan, lanKey.publicKey(), "Nguyễn Thị Lan"), SignerKey(w.hung, hungKey.publicKey(), "Trần Văn Hùng"))
        lan.drawUpMinutes(w.inspection, MinutesInput(
            number = "11/BB-ĐKT", issuingBody = listOf("SỞ NỘI VỤ THÀNH PHỐ HẢI PHÒNG", "ĐOÀN KIỂM TRA"),
            city = "Hải Phòng", place = "Văn phòng công ty", startedAt = "2025-05-06T08:00:00+07:00",
            endedAt = "2025-05-06T11:00:00+07:00", representativeName = "Hoàng Văn Đức",
            representativeTitle = "Giám đốc", statement = "Công ty cam kết khắc phục.", refusalReason = null,
            witnessName = null, witnessTitle = null, witnessRole = null, copies = 2u, signerKeys = keys,
            representativeSignaturePng = null, previousHash = null))
        assertFalse(lan.signMinutes(w.inspection, w.lan, null).sealed)
        lan.sync(null)

        // The leader's phone receives everything, photo included, and seals.
        hung.sync(null)
        assertEquals(added.imageSha256, hung.photos(w.inspection).single().imageSha256)
        assertEquals(2uL, hung.downloadPhotos(w.inspection, false))
        assertTrue(hung.signMinutes(w.inspection, w.hung, null).sealed)
        assertEquals(Status.SEALED, hung.inspection(w.inspection).status)
        assertTrue(lanKey.signatures > 0 && hungKey.signatures > 0)

        val pdf = hung.minutesPdf(w.inspection, "https://kiemtra.example.vn/xac-minh", keys)
        assertEquals("%PDF-", String(pdf.copyOfRange(0, 5), Charsets.US_ASCII))
        val verified = verifyMinutes(pdf, emptyList())
        assertTrue(verified.report, verified.valid)
        hung.sync(null)
    }

    @Test
    fun cancelledSyncKeepsWhatItDidAndTheNextResumes() = runBlocking<Unit> {
        val w = World("CANCEL")
        val lan = KiemtraStore.openWithKeyStore(storeDir("cancel-lan"), AppKeyStore())
        lan.enrol(w.url, w.lanCode, "Điện thoại của Lan", null)
        lan.sync()
        lan.startInspection(w.inspection)
        lan.setAnswer(w.inspection, "A1", AnswerValue.Count(420uL), null)
        repeat(3) { lan.addPhoto(w.inspection, "F2", photo(it), "Ảnh ${it + 1}") }
        val blobs = lan.photos(w.inspection).flatMap { listOf(it.imageSha256, it.thumbnailSha256) }.toSet().size
        assertEquals("three photos, each an image and a thumbnail", 6, blobs)

        // 1. The coroutine is cancelled after the first blob is uploaded.
        val arrived = CountDownLatch(1)
        lateinit var job: Job
        val listener = object : SyncListener {
            @Volatile var fired = false
            override fun onProgress(progress: SyncProgress) {
                if (progress.phase == SyncPhase.UPLOADING_PHOTOS && progress.photosDone == 1uL && !fired) {
                    fired = true
                    job.cancel()
                    // Hold the sync thread until the cancellation has reached Rust: it stops exactly here.
                    arrived.await(30, TimeUnit.SECONDS)
                }
            }
        }
        // guide:start cancel
        job = launch { lan.sync(listener) }
        job.join() // a cancelled job is joined once the Rust future is freed
        // guide:end cancel
        arrived.countDown()
        assertTrue(listener.fired)
        assertTrue(job.isCancelled)
        // Photos go before the operations that refer to them: nothing is pushed yet.
        val pending = lan.pendingOperations().size
        assertTrue("the photos go before the push", pending >= 4)

        // 2. The next sync resumes: the other blobs go up, then every operation.
        val resumed = lan.sync()
        assertEquals(pending.toULong(), resumed.pushed)
        assertEquals((blobs - 1).toULong(), resumed.photosUploaded)

        // 3. A token cancels a download before its next photo.
        val hung = KiemtraStore.openWithKeyStore(storeDir("cancel-hung"), AppKeyStore())
        hung.enrol(w.url, w.hungCode, "Điện thoại của Hùng", null)
        hung.sync()
        val token = CancelToken()
        token.cancel()
        try {
            hung.downloadPhotos(w.inspection, false, token)
            fail("a cancelled download returned")
        } catch (e: KiemtraException.Cancelled) {
            assertTrue(e.message ?: "", (e.message ?: "").contains("cancelled"))
        }
        assertEquals(blobs.toULong(), hung.downloadPhotos(w.inspection, false))
    }

    @Test
    fun errorsArriveAsKotlinExceptionsWithVariantAndMessage() = runBlocking<Unit> {
        val w = World("ERRORS")
        val store = KiemtraStore.openWithKeyStore(storeDir("errors"), AppKeyStore())
        val notEnrolled = runCatching { store.sync() }.exceptionOrNull()
        assertTrue("$notEnrolled", notEnrolled is KiemtraException.InvalidInput)
        assertTrue(notEnrolled!!.message!!.contains("not enrolled"))
        // guide:start errors
        try {
            store.enrol(w.url, "KHONG-CO-MA-NAY", "Điện thoại", null)
        } catch (e: KiemtraException.Auth) {
            // e.reason is the server's reason; e.message the whole sentence.
            assertNotNull(e.reason)
        }
        // guide:end errors
        val offline = runCatching { store.enrol("http://127.0.0.1:9", w.lanCode, "x", null) }.exceptionOrNull()
        assertTrue("$offline", offline is KiemtraException.Network)

        // A scanned text that is not an enrolment link says so; the staff
        // page's QR code (server and code in one link) enrols.
        val notALink = runCatching { parseEnrolLink("https://example.com") }.exceptionOrNull()
        assertTrue("$notALink", notALink is KiemtraException.InvalidInput)
        val scanned = "kiemtra://enrol?server=" + java.net.URLEncoder.encode(w.url, "UTF-8") + "&code=" + w.lanCode
        val link = parseEnrolLink(scanned)
        assertEquals(w.url, link.serverUrl)
        store.enrol(link.serverUrl, link.code, "Điện thoại của Lan", null)
        store.sync()
        store.startInspection(w.inspection)
        // A count for a yes/no item is refused with the reason.
        val line = store.checklist(w.inspection).first { it.answerType == uniffi.kiemtra_mobile.AnswerType.YES_NO_NA }
        val wrong = runCatching { store.setAnswer(w.inspection, line.itemCode, AnswerValue.Count(1uL), null) }.exceptionOrNull()
        assertTrue("$wrong", wrong is KiemtraException.InvalidInput)
        assertTrue(wrong!!.message!!.isNotBlank())
    }
}
