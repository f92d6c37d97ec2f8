import Emulator
import Transport

/// Runs `body` with `server` and a fresh libcurl transport, then shuts both down, also when `body` throws.
public func withTransport(
    to server: EmulatorServer, _ body: (EmulatorServer, CurlTransport) async throws -> Void
) async throws {
    let transport = CurlTransport()
    do {
        try await body(server, transport)
    } catch {
        await transport.shutdown()
        try await server.stop()
        throw error
    }
    await transport.shutdown()
    try await server.stop()
}
