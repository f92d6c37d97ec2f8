import Foundation
import GridcastCore
import Sinks
import Testing

@Suite("Splitting long notices at platform limits")
struct SplittingTests {
    /// A long Chinese notice: paragraphs of lines, about 6,000 bytes.
    static let longNotice: String = {
        let paragraph = """
            近期，辖区内多名老人接到自称“社保局工作人员”的电话，称其养老金账户异常，需要配合“资金核查”。
            对方随后要求老人下载陌生App、开启屏幕共享，并把存款转入所谓“安全账户”。
            请牢记：公检法机关和社保部门不会通过电话要求转账，更不存在“安全账户”。
            """
        return (1...12).map { "第\($0)条提醒：\n" + paragraph }.joined(separator: "\n\n")
    }()

    @Test(arguments: [TextLimit.bytes(2048), .bytes(4096), .characters(500), .characters(1000)])
    func partsFitTheLimitAndReassembleExactly(limit: TextLimit) {
        let parts = TextSplitter.split(Self.longNotice, budget: limit.value, limit: limit)
        #expect(parts.count > 1)
        #expect(parts.allSatisfy { limit.measure($0) <= limit.value })
        #expect(parts.joined() == Self.longNotice)
        // Paragraph boundaries are preferred: every part but the last ends with a line break.
        #expect(parts.dropLast().allSatisfy { $0.last?.isNewline == true })
    }

    @Test func aLineWithoutBreaksIsCutBetweenGraphemesNeverInsideOne() {
        let emoji = "👨‍👩‍👧‍👦"  // one grapheme, 25 bytes
        let text = String(repeating: "诈" + emoji, count: 100)
        let parts = TextSplitter.split(text, budget: 100, limit: .bytes(100))
        #expect(parts.joined() == text)
        for part in parts {
            #expect(part.utf8.count <= 100)
            #expect(part.unicodeScalars.first != "\u{200D}")  // no part starts inside a ZWJ sequence
            #expect(part.allSatisfy { $0 == "诈" || String($0) == emoji })
        }
    }

    /// A title paragraph before one long paragraph: the first part carries the title and as much of the long
    /// paragraph as fits, instead of the title alone.
    @Test func aShortParagraphBeforeALongOneFillsTheFirstPart() {
        let long = Array(repeating: "冒充公检法的骗子会说你的账户涉嫌洗钱。", count: 45).joined(separator: "\n")
        let text = "【提醒】\n\n" + long
        let parts = TextSplitter.split(text, budget: 2040, limit: .bytes(2048))
        #expect(parts.count == 2)
        #expect(parts.joined() == text)
        #expect(parts.allSatisfy { $0.utf8.count <= 2040 })
        #expect(parts[0].hasPrefix("【提醒】\n\n冒充公检法"))
    }

    @Test func windowsLineBreaksAreLineBreaks() {
        let text = (1...40).map { "第\($0)行：不回拨、不轻信、不点击、不透露、不转账。" }.joined(separator: "\r\n")
        let parts = TextSplitter.split(text, budget: 300, limit: .bytes(300))
        #expect(parts.joined() == text)
        #expect(parts.dropLast().allSatisfy { $0.hasSuffix("\r\n") })
    }

    @Test func messagePartsAreMarkedAndCarryTheKeyword() {
        let group = Group(id: "d1", name: "钉钉群", sink: "wecom", url: "https://x", keyword: "反诈")
        let notice = Notice(id: "n", title: "养老诈骗提醒", text: Self.longNotice.replacingOccurrences(of: "反诈", with: ""))
        let parts = MessageParts.parts(of: notice, for: group, on: WeComSink())
        #expect(parts.count == 3)
        for (index, part) in parts.enumerated() {
            #expect(part.utf8.count <= 2048)
            #expect(part.hasPrefix("【反诈】(\(index + 1)/\(parts.count)) "))
        }
        let bodies = parts.map { String($0.dropFirst("【反诈】(1/3) ".count)) }
        #expect(bodies.joined() == MessageParts.body(of: notice))
    }

    @Test func aShortNoticeIsOnePartWithoutMarker() {
        let group = Group(id: "w1", name: "群", sink: "wecom", url: "https://x")
        #expect(
            MessageParts.parts(of: Notice(id: "n", title: "", text: "不转账"), for: group, on: WeComSink()) == ["不转账"])
    }
}
