// What an Android app writes around the generated bindings: a key store,
// a progress listener and one inspection screen's calls. docs/apps.md
// quotes this file; the Kotlin tests (KiemtraAppTest.kt) run it.
package vn.kiemtra.example

import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import uniffi.kiemtra_mobile.AnswerType
import uniffi.kiemtra_mobile.AnswerValue
import uniffi.kiemtra_mobile.ChecklistLine
import uniffi.kiemtra_mobile.DeviceKeyStore
import uniffi.kiemtra_mobile.KiemtraStore
import uniffi.kiemtra_mobile.SyncListener
import uniffi.kiemtra_mobile.SyncProgress
import uniffi.kiemtra_mobile.YesNoNa

// guide:start keystore
/**
 * The device key, held by the platform: on Android an Ed25519 key in the
 * Android Keystore, where the device's Keystore offers Ed25519, whose private
 * half never leaves it. Here the JVM's own Ed25519 provider stands in. Rust calls these two methods on its
 * own thread, whenever it must sign (enrolment, sync sessions, minutes).
 */
class AppKeyStore : DeviceKeyStore {
    private val pair: KeyPair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair()
    @Volatile var signatures = 0
        private set

    // The X.509 encoding ends with the 32 raw key bytes.
    override fun publicKey(): ByteArray = pair.public.encoded.copyOfRange(pair.public.encoded.size - 32, pair.public.encoded.size)

    override fun sign(message: ByteArray): ByteArray {
        signatures++
        return Signature.getInstance("Ed25519").run {
            initSign(pair.private)
            update(message)
            sign()
        }
    }
}
// guide:end keystore

// guide:start listener
/**
 * Progress for a progress bar. Called on the sync thread, never the main
 * thread: hand it over (on Android: `mainHandler.post { ... }` or a
 * `MutableStateFlow`) instead of touching views here.
 */
class ProgressRecorder : SyncListener {
    val seen = java.util.concurrent.CopyOnWriteArrayList<SyncProgress>()
    override fun onProgress(progress: SyncProgress) {
        seen.add(progress)
    }
}
// guide:end listener

// guide:start screen
/** One inspection screen's calls: network calls suspend, store calls return at once. */
class InspectionScreen(private val store: KiemtraStore, private val inspectionId: String) {
    /** Start button: Draft → InProgress. */
    fun start() = store.startInspection(inspectionId)

    /** The lines to show, in template order, with what is asked. */
    fun lines(): List<ChecklistLine> = store.checklist(inspectionId)

    /** An answer typed like its item: the store refuses a count for a yes/no item. */
    fun answer(line: ChecklistLine, compliant: Boolean) {
        val value = when (line.answerType) {
            AnswerType.YES_NO_NA -> AnswerValue.YesNoNa(if (compliant) YesNoNa.YES else YesNoNa.NO)
            AnswerType.COUNT -> AnswerValue.Count(420uL)
            AnswerType.RATIO -> AnswerValue.Ratio(50uL, 50uL)
            AnswerType.TEXT -> AnswerValue.Text("Ghi nhận tại hiện trường")
        }
        store.setAnswer(inspectionId, line.itemCode, value, null)
    }

    /** Answers every asked line (asking can depend on earlier answers). */
    fun answerAll(nonCompliant: Set<String>) {
        while (true) {
            val todo = lines().filter { it.asked && it.answers.isEmpty() }
            if (todo.isEmpty()) return
            todo.forEach { answer(it, it.itemCode !in nonCompliant) }
        }
    }

    /** Camera result: the bytes as the camera wrote them. */
    fun addPhoto(itemCode: String, jpeg: ByteArray, caption: String) =
        store.addPhoto(inspectionId, itemCode, jpeg, caption)

    /** Sync button, from a coroutine (e.g. `viewModelScope.launch { ... }`). */
    suspend fun sync(progress: SyncListener) = store.sync(progress)
}
// guide:end screen
