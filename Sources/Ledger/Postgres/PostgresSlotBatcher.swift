import Foundation
import PostgresNIO

/// Group commit for shared send slots: one-bot reservations that arrive while a statement is out wait for the next,
/// which takes all of them at once (one statement per flush instead of one per message). Reservations of a bot
/// already in the batch wait for the following one, so each bot's slots stay one after another.
actor PostgresSlotBatcher {
    /// One waiting reservation.
    struct Request: Sendable {
        let key: String
        let spacing: Int64
        let ahead: Int64
        let now: Date
        let answer: CheckedContinuation<SlotReservation, any Error>
    }

    private var waiting: [Request] = []
    private var flushing = false

    /// Waits for the slot of one bot; `flush` answers each request of a batch (keys distinct), in order.
    func reserve(
        key: String, spacing: Int64, ahead: Int64, now: Date,
        flush: @escaping @Sendable ([Request]) async throws -> [SlotReservation]
    ) async throws -> SlotReservation {
        try await withCheckedThrowingContinuation { answer in
            waiting.append(Request(key: key, spacing: spacing, ahead: ahead, now: now, answer: answer))
            if !flushing {
                flushing = true
                Task { await self.drain(flush) }
            }
        }
    }

    /// Flushes batches until nothing waits.
    private func drain(_ flush: @Sendable ([Request]) async throws -> [SlotReservation]) async {
        while !waiting.isEmpty {
            var keys = Set<String>()
            var batch: [Request] = []
            var later: [Request] = []
            for request in waiting {
                if keys.insert(request.key).inserted { batch.append(request) } else { later.append(request) }
            }
            waiting = later
            do {
                let answers = try await flush(batch)
                for (request, answer) in zip(batch, answers) { request.answer.resume(returning: answer) }
            } catch {
                for request in batch { request.answer.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
