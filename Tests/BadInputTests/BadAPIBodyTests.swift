import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// Every bad `POST /v1/notices` body of the corpus, sent to the real API (Hummingbird on a loopback port, a real
/// SQLite ledger) with the libcurl transport: the status, the `field` of the JSON answer and its message, and
/// nothing planned.
@Suite("Bad input: POST /v1/notices bodies are refused naming the field")
struct BadAPIBodyTests {
    static let token = APIHarness.token

    /// The error answer's body.
    struct Answer: Decodable {
        var error: String
        var field: String?
    }

    /// Posts `body` to a fresh API over three WeCom groups (never contacted) and returns the answer and the ledger.
    func post(_ body: [UInt8]) async throws -> (status: Int, answer: Answer, planned: Bool) {
        try await APIHarness.run { api in
            let response = try await api.call("POST", "/v1/notices", body: body)
            let answer = try JSONDecoder().decode(Answer.self, from: Data(response.body))
            let planned = try await !api.store.pending(noticeID: nil, now: APIHarness.now).isSettled
            return (response.status, answer, planned)
        }
    }

    @Test("a bad body gets its status and names its field", arguments: Corpus.cases("api"))
    func body(_ item: Corpus.Case) async throws {
        let (status, answer, planned) = try await post(item.bytes)
        #expect(status == item.status)
        #expect(answer.field == item.field)
        #expect(answer.error.contains(item.message), "\(answer.error)")
        if let group = item.group {
            #expect(answer.error.contains(group))
        }
        #expect(!planned, "a refused body must plan nothing")
        // A refusal never echoes the token or a group's URL.
        #expect(!answer.error.contains(Self.token))
        #expect(!answer.error.contains("127.0.0.1"))
    }

    @Test("the pure decoder agrees with the API", arguments: Corpus.cases("api").filter { $0.status != 413 })
    func decoder(_ item: Corpus.Case) {
        do {
            _ = try NoticeBody(json: item.bytes)
            // Accepted bodies are refused later, by the intake (selector, text, id, parts).
            #expect(item.status == 422 && ["to", "text", "id"].contains(item.field))
        } catch {
            #expect(error.kind == (item.status == 400 ? .malformed : .invalid))
            #expect(error.field == item.field)
        }
    }
}
