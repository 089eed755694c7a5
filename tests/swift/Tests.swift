// The Swift bindings as an iOS app uses them, against the real server
// (started by tests/python/inspectorate.py, which passes its URL and the
// enrolment codes in the environment): the same scenario as the Python tests.
import Foundation
import XCTest

struct MissingEnvironment: Error { let name: String }

func env(_ name: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[name] else { throw MissingEnvironment(name: name) }
    return value
}

/// One world of the launcher: an inspection with its two inspectors and their codes.
struct World {
    let url, inspection, lan, hung, lanCode, hungCode: String
    init(_ name: String) throws {
        url = try env("KIEMTRA_URL")
        inspection = try env("KIEMTRA_\(name)_INSPECTION")
        lan = try env("KIEMTRA_\(name)_LAN")
        hung = try env("KIEMTRA_\(name)_HUNG")
        lanCode = try env("KIEMTRA_\(name)_LAN_CODE")
        hungCode = try env("KIEMTRA_\(name)_HUNG_CODE")
    }
}

func storeDir(_ name: String) throws -> String { try env("KIEMTRA_WORKDIR") + "/swift-" + name }
func photo(_ i: Int = 0) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: env("KIEMTRA_PHOTOS").split(separator: ":").map(String.init)[i]))
}

/// Calls `onFire` on the sync thread once `at` photo blobs are uploaded.
final class CancelAtPhoto: SyncListener, @unchecked Sendable {
    let at: UInt64
    let onFire: () -> Void
    private let lock = NSLock()
    private var done = false
    var fired: Bool { lock.lock(); defer { lock.unlock() }; return done }
    init(at: UInt64, onFire: @escaping () -> Void) {
        self.at = at
        self.onFire = onFire
    }
    func onProgress(progress: SyncProgress) {
        lock.lock()
        let fire = progress.phase == .uploadingPhotos && progress.photosDone == at && !done
        if fire { done = true }
        lock.unlock()
        if fire { onFire() }
    }
}

/// Waits for a semaphore without blocking Swift's cooperative thread pool.
func waitFor(_ semaphore: DispatchSemaphore) async {
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().async {
            semaphore.wait()
            c.resume()
        }
    }
}

final class KiemtraAppTests: XCTestCase {
    func testWholeInspectionSyncedSignedAndVerified() async throws {
        let w = try World("WALK")
        let lanKey = try AppKeyStore()
        let hungKey = try AppKeyStore()
        // guide:start open
        let lan = try KiemtraStore.openWithKeyStore(path: storeDir("walk-lan"), keyStore: lanKey)
        let me = try await lan.enrol(serverUrl: w.url, code: w.lanCode, deviceName: "iPhone của Lan", caPem: nil)
        // guide:end open
        XCTAssertEqual(me.id, w.lan)
        let hung = try KiemtraStore.openWithKeyStore(path: storeDir("walk-hung"), keyStore: hungKey)
        _ = try await hung.enrol(serverUrl: w.url, code: w.hungCode, deviceName: "iPhone của Hùng", caPem: nil)

        // Pull the assignment, with a progress listener.
        let progress = ProgressRecorder()
        let pulled = try await lan.sync(listener: progress)
        XCTAssertGreaterThan(pulled.pulled, 0)
        // Photos first: the server takes no operation before the photos it refers to.
        XCTAssertEqual(progress.seen.first?.phase, .uploadingPhotos)
        XCTAssertEqual(progress.seen.last?.phase, .done)
        XCTAssertEqual(try lan.inspection(inspectionId: w.inspection).status, .draft)

        let screen = InspectionScreen(store: lan, inspectionId: w.inspection)
        try screen.start()
        try screen.answerAll(nonCompliant: ["D5"])
        let added = try screen.addPhoto(itemCode: "F2", jpeg: photo(), caption: "Tủ điện không nối đất")
        XCTAssertEqual(try lan.photos(inspectionId: w.inspection).count, 1)

        // The non-compliant answer proposes a violation that cites the law.
        let d5 = try XCTUnwrap(lan.violations(inspectionId: w.inspection).first { $0.itemCode == "D5" })
        XCTAssertFalse(d5.legalBasis.isEmpty)
        XCTAssertFalse(d5.legalBasis[0].instrument.isEmpty)
        XCTAssertFalse(d5.requirement.isEmpty)

        let report = try await screen.sync(progress: progress)
        XCTAssertEqual(report.refused, 0)
        XCTAssertEqual(report.photosUploaded, 2)
        XCTAssertTrue(try lan.pendingOperations().isEmpty)

        _ = try lan.closeFindings(inspectionId: w.inspection)
        let keys = [SignerKey(inspectorId: w.lan, publicKey: try lanKey.publicKey(), name: "Nguyễn Thị Lan"),
                    SignerKey(inspectorId: w.hung, publicKey: try hungKey.publicKey(), name: "Trần Văn Hùng")]
        _ = try lan.drawUpMinutes(inspectionId: w.inspection, input: MinutesInput(
            number: "12/BB-ĐKT", issuingBody: ["SỞ NỘI VỤ THÀNH PHỐ HẢI PHÒNG", "ĐOÀN KIỂM TRA"],
            city: "Hải Phòng", place: "Văn phòng công ty", startedAt: "2025-05-06T08:00:00+07:00",
            endedAt: "2025-05-06T11:00:00+07:00", representativeName: "Hoàng Văn Đức",
            representativeTitle: "Giám đốc", statement: "Công ty cam kết khắc phục.", refusalReason: nil,
            witnessName: nil, witnessTitle: nil, witnessRole: nil, copies: 2, signerKeys: keys,
            representativeSignaturePng: nil, previousHash: nil))
        XCTAssertFalse(try lan.signMinutes(inspectionId: w.inspection, signerId: w.lan, keyStore: nil).sealed)
        _ = try await lan.sync()

        // The leader's phone receives everything, photo included, and seals.
        _ = try await hung.sync()
        XCTAssertEqual(try hung.photos(inspectionId: w.inspection).map(\.imageSha256), [added.imageSha256])
        let fetched = try await hung.downloadPhotos(inspectionId: w.inspection, thumbnailsOnly: false)
        XCTAssertEqual(fetched, 2)
        XCTAssertTrue(try hung.signMinutes(inspectionId: w.inspection, signerId: w.hung, keyStore: nil).sealed)
        XCTAssertEqual(try hung.inspection(inspectionId: w.inspection).status, .sealed)
        XCTAssertGreaterThan(lanKey.signatures, 0)
        XCTAssertGreaterThan(hungKey.signatures, 0)

        let pdf = try hung.minutesPdf(inspectionId: w.inspection, verifyBaseUrl: "https://kiemtra.example.vn/xac-minh",
                                      extraTrustedKeys: keys)
        XCTAssertEqual(pdf.prefix(5), Data("%PDF-".utf8))
        let verified = try verifyMinutes(file: pdf, trustedKeys: [])
        XCTAssertTrue(verified.valid, verified.report)
        _ = try await hung.sync()
    }

    func testCancelledSyncKeepsWhatItDidAndTheNextResumes() async throws {
        let w = try World("CANCEL")
        let lan = try KiemtraStore.openWithKeyStore(path: storeDir("cancel-lan"), keyStore: AppKeyStore())
        _ = try await lan.enrol(serverUrl: w.url, code: w.lanCode, deviceName: "iPhone của Lan", caPem: nil)
        _ = try await lan.sync()
        _ = try lan.startInspection(inspectionId: w.inspection)
        try lan.setAnswer(inspectionId: w.inspection, itemCode: "A1", value: .count(value: 420), note: nil)
        for i in 0..<3 {
            _ = try lan.addPhoto(inspectionId: w.inspection, itemCode: "F2", bytes: photo(i), caption: "Ảnh \(i + 1)")
        }
        let blobs = Set(try lan.photos(inspectionId: w.inspection).flatMap { [$0.imageSha256, $0.thumbnailSha256] }).count
        XCTAssertEqual(blobs, 6, "three photos, each an image and a thumbnail")

        // 1. The Task is cancelled after the first blob is uploaded; the sync
        // thread waits until the cancellation is set, so it stops exactly there.
        let fired = DispatchSemaphore(value: 0)
        let arrived = DispatchSemaphore(value: 0)
        let listener = CancelAtPhoto(at: 1) {
            fired.signal()
            arrived.wait()
        }
        let task = Task { try await lan.syncCancellable(listener: listener) }
        await waitFor(fired) // the first blob is up
        // guide:start cancel
        task.cancel() // e.g. the user left the screen
        // guide:end cancel
        // withTaskCancellationHandler has set the token before cancel() returned.
        arrived.signal()
        guard case .failure(let error) = await task.result else { return XCTFail("a cancelled sync returned") }
        guard case KiemtraError.Cancelled(let reason) = error else { return XCTFail("not a cancellation: \(error)") }
        XCTAssertTrue(reason.contains("cancelled"), reason)
        // Photos go before the operations that refer to them: nothing is pushed yet.
        let pending = try lan.pendingOperations().count
        XCTAssertGreaterThanOrEqual(pending, 4, "the photos go before the push")

        // 2. The next sync resumes: the other blobs go up, then every operation.
        let resumed = try await lan.sync()
        XCTAssertEqual(resumed.pushed, UInt64(pending))
        XCTAssertEqual(resumed.photosUploaded, UInt64(blobs - 1))

        // 3. A token cancels a download before its next photo.
        let hung = try KiemtraStore.openWithKeyStore(path: storeDir("cancel-hung"), keyStore: AppKeyStore())
        _ = try await hung.enrol(serverUrl: w.url, code: w.hungCode, deviceName: "iPhone của Hùng", caPem: nil)
        _ = try await hung.sync()
        let token = CancelToken()
        token.cancel()
        do {
            _ = try await hung.downloadPhotos(inspectionId: w.inspection, thumbnailsOnly: false, cancel: token)
            XCTFail("a cancelled download returned")
        } catch KiemtraError.Cancelled {}
        let fetched = try await hung.downloadPhotos(inspectionId: w.inspection, thumbnailsOnly: false)
        XCTAssertEqual(fetched, UInt64(blobs))
    }

    func testErrorsArriveAsSwiftErrorsWithCaseAndMessage() async throws {
        let w = try World("ERRORS")
        let store = try KiemtraStore.openWithKeyStore(path: storeDir("errors"), keyStore: AppKeyStore())
        do {
            _ = try await store.sync()
            XCTFail("a sync before enrolment returned")
        } catch KiemtraError.InvalidInput(let reason) {
            XCTAssertTrue(reason.contains("not enrolled"), reason)
        }
        // guide:start errors
        do {
            _ = try await store.enrol(serverUrl: w.url, code: "KHONG-CO-MA-NAY", deviceName: "iPhone", caPem: nil)
        } catch KiemtraError.Auth(let reason) {
            // The server's reason, for the message the user sees.
            XCTAssertFalse(reason.isEmpty)
        }
        // guide:end errors
        do {
            _ = try await store.enrol(serverUrl: "http://127.0.0.1:9", code: w.lanCode, deviceName: "x", caPem: nil)
            XCTFail("an enrolment with no server returned")
        } catch KiemtraError.Network(let reason) {
            XCTAssertFalse(reason.isEmpty)
        }
        // A scanned text that is not an enrolment link says so; the staff
        // page's QR code (server and code in one link) enrols.
        do {
            _ = try parseEnrolLink(text: "https://example.com")
            XCTFail("a web address was read as an enrolment link")
        } catch KiemtraError.InvalidInput(let reason) {
            XCTAssertFalse(reason.isEmpty)
        }
        let server = try XCTUnwrap(w.url.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let link = try parseEnrolLink(text: "kiemtra://enrol?server=\(server)&code=\(w.lanCode)")
        XCTAssertEqual(link.serverUrl, w.url)
        _ = try await store.enrol(serverUrl: link.serverUrl, code: link.code, deviceName: "iPhone của Lan", caPem: nil)
        _ = try await store.sync()
        _ = try store.startInspection(inspectionId: w.inspection)
        let line = try XCTUnwrap(store.checklist(inspectionId: w.inspection).first { $0.answerType == .yesNoNa })
        do {
            try store.setAnswer(inspectionId: w.inspection, itemCode: line.itemCode, value: .count(value: 1), note: nil)
            XCTFail("a count for a yes/no item was accepted")
        } catch KiemtraError.InvalidInput(let reason) {
            XCTAssertFalse(reason.isEmpty)
        }
    }
}
