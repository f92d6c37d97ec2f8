import Testing

@testable import Sinks

/// `MarkdownText.plain` returns text without a mark byte as it is, without reading it: the reader must leave every
/// such text unchanged, or the shortcut would send what the reader would not.
@Suite("Markdown: the shortcut for text without marks")
struct MarkdownShortcutTests {
    /// Characters of notices that are not marks: CJK and its punctuation, spaces and line breaks, numbered lists,
    /// ASCII punctuation no rule starts with, emoji with modifiers, accents.
    static let alphabet: [Character] = Array("反诈提醒不回拨轻信，。：；！？（）“”、 \n\n  1. 2) 3、!()<&|=%$@^'\";:,./?a9Z\t👍🏽é")

    @Test func theReaderLeavesTextWithoutMarksUnchanged() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 5, 40, 300] {
            for _ in 0..<200 {
                let text = String((0..<length).map { _ in Self.alphabet.randomElement(using: &generator)! })
                #expect(!text.utf8.contains(where: MarkdownText.marks.contains))
                #expect(MarkdownText.read(text) == text, "\(text.debugDescription)")
                #expect(MarkdownText.plain(text) == text)
            }
        }
    }
}
