import Testing
import Transport

/// The one multipart encoder, shared by the Discord and Telegram sinks and WeCom's media upload.
@Suite struct MultipartFormTests {
    @Test func writesFieldsAndFilesInOrderAndClosesTheForm() {
        var form = MultipartForm(seed: "poster-sha")
        form.field("chat_id", "-100123")
        form.file("photo", filename: "poster.png", contentType: "image/png", [1, 2, 3])
        let boundary = form.boundary
        let expected =
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n-100123\r\n"
            + "--\(boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"poster.png\"\r\n"
            + "Content-Type: image/png\r\n\r\n\u{1}\u{2}\u{3}\r\n--\(boundary)--\r\n"
        #expect(form.finished == Array(expected.utf8))
        #expect(form.contentType == "multipart/form-data; boundary=\(boundary)")
    }

    @Test func theBoundaryDependsOnlyOnTheSeed() {
        let boundary = MultipartForm(seed: "a").boundary
        #expect(boundary.hasPrefix("gridcast-"))
        #expect(boundary.count == "gridcast-".count + 40)
        #expect(MultipartForm(seed: "a").boundary == boundary)
        #expect(MultipartForm(seed: Array("a".utf8)).boundary == boundary)
        #expect(MultipartForm(seed: "b").boundary != boundary)
    }

    @Test func quotesAndLineBreaksInNamesArePercentEncoded() {
        #expect(MultipartForm.quoted("a\"b\r\nc") == "a%22b%0D%0Ac")
    }
}
