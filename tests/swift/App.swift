// What an iOS app writes around the generated bindings: a key store, a
// progress listener, Task cancellation for sync and one inspection screen's
// calls. docs/apps.md quotes this file; the Swift tests (Tests.swift) run it.
import Foundation
#if canImport(CryptoKit)
import CryptoKit
#endif

// guide:start keystore
/// The device key, held by the platform. On iOS a Curve25519 signing key
/// the app keeps in the Keychain; Swift on Linux has no CryptoKit, so there
/// the arithmetic goes to the library's `SoftwareKey`. Rust calls these two
/// methods on its own thread whenever it must sign (enrolment, sync
/// sessions, minutes).
final class AppKeyStore: DeviceKeyStore, @unchecked Sendable {
    #if canImport(CryptoKit)
    private let key = Curve25519.Signing.PrivateKey()
    func publicKey() throws -> Data { key.publicKey.rawRepresentation }
    private func rawSign(_ message: Data) throws -> Data { try key.signature(for: message) }
    #else
    private let key: SoftwareKey
    init() throws { key = try SoftwareKey.generate() }
    func publicKey() throws -> Data { key.publicKey() }
    private func rawSign(_ message: Data) throws -> Data { try key.sign(message: message) }
    #endif

    private let lock = NSLock()
    private var count = 0
    var signatures: Int { lock.lock(); defer { lock.unlock() }; return count }

    func sign(message: Data) throws -> Data {
        lock.lock(); count += 1; lock.unlock()
        return try rawSign(message)
    }
}
// guide:end keystore

// guide:start listener
/// Progress for a progress bar. Called on the sync thread, never the main
/// thread: hand it over (`Task { @MainActor in ... }`) instead of touching
/// views here.
final class ProgressRecorder: SyncListener, @unchecked Sendable {
    private let lock = NSLock()
    private var all: [SyncProgress] = []
    var seen: [SyncProgress] { lock.lock(); defer { lock.unlock() }; return all }
    func onProgress(progress: SyncProgress) {
        lock.lock(); all.append(progress); lock.unlock()
    }
}
// guide:end listener

// guide:start cancellable
extension KiemtraStore {
    /// `sync` that stops when the calling `Task` is cancelled. uniffi's Swift
    /// `async` functions do not watch `Task` cancellation; a `CancelToken`
    /// does, and the sync then throws `KiemtraError.Cancelled` at its next
    /// step. What it finished is kept; the next sync resumes.
    func syncCancellable(listener: SyncListener?) async throws -> SyncReport {
        let token = CancelToken()
        return try await withTaskCancellationHandler {
            try await sync(listener: listener, cancel: token)
        } onCancel: {
            token.cancel()
        }
    }
}
// guide:end cancellable

// guide:start screen
/// One inspection screen's calls: network calls are `async`, store calls return at once.
final class InspectionScreen {
    let store: KiemtraStore
    let inspectionId: String
    init(store: KiemtraStore, inspectionId: String) {
        self.store = store
        self.inspectionId = inspectionId
    }

    /// Start button: Draft → InProgress.
    func start() throws { _ = try store.startInspection(inspectionId: inspectionId) }

    /// The lines to show, in template order, with what is asked.
    func lines() throws -> [ChecklistLine] { try store.checklist(inspectionId: inspectionId) }

    /// An answer typed like its item: the store refuses a count for a yes/no item.
    func answer(_ line: ChecklistLine, compliant: Bool) throws {
        let value: AnswerValue
        switch line.answerType {
        case .yesNoNa: value = .yesNoNa(value: compliant ? .yes : .no)
        case .count: value = .count(value: 420)
        case .ratio: value = .ratio(numerator: 50, denominator: 50)
        case .text: value = .text(value: "Ghi nhận tại hiện trường")
        }
        try store.setAnswer(inspectionId: inspectionId, itemCode: line.itemCode, value: value, note: nil)
    }

    /// Answers every asked line (asking can depend on earlier answers).
    func answerAll(nonCompliant: Set<String>) throws {
        while true {
            let todo = try lines().filter { $0.asked && $0.answers.isEmpty }
            if todo.isEmpty { return }
            for line in todo { try answer(line, compliant: !nonCompliant.contains(line.itemCode)) }
        }
    }

    /// Camera result: the bytes as the camera wrote them.
    func addPhoto(itemCode: String, jpeg: Data, caption: String) throws -> Photo {
        try store.addPhoto(inspectionId: inspectionId, itemCode: itemCode, bytes: jpeg, caption: caption)
    }

    /// Sync button: `Task { try await screen.sync(progress: recorder) }`, cancelled with the Task.
    func sync(progress: SyncListener) async throws -> SyncReport {
        try await store.syncCancellable(listener: progress)
    }
}
// guide:end screen
