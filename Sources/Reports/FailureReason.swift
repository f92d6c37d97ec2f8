import Foundation
import Ledger

/// A stored failure (a delivery's `last_error`) in words a community secretary reads: `机器人地址无效` for WeCom's
/// errcode 93000, `结果未知（超时）` for a timeout. A reason not recognized is shown as stored.
public enum FailureReason {
    /// The Chinese reason a delivery in `state` did not get through: a customer group's task outcome by its state
    /// (quota refused, not delivered, expired, awaiting the member), any other by its `lastError`.
    public static func chinese(state: DeliveryState, lastError: String, sink: String) -> String {
        switch state {
        case .quotaRefused: "该群的群发次数已达上限，未发出"
        case .notDelivered: "该群已不是网格员的客户群（已退群或非好友）"
        case .expired: "网格员未在期限内确认，群发任务已取消"
        case .awaitingConfirmation: "群发任务已创建，网格员确认后才发出"
        default: chinese(lastError, sink: sink, inDoubt: state == .inDoubt)
        }
    }

    /// The Chinese reason for `lastError` of a delivery to a `sink` group, or `lastError` itself when unknown. An
    /// `in_doubt` delivery's reason always says the outcome is unknown (a 502 may have been posted), never more.
    public static func chinese(_ lastError: String, sink: String, inDoubt: Bool = false) -> String {
        let text = lastError.lowercased()
        if !inDoubt, let code = errcode(in: text), let reason = byCode(code, sink: sink, text: text) { return reason }
        if inDoubt || text.contains("outcome unknown") || text.contains("claim expired") {
            if let curl = curlCode(in: text) {
                if curl == 28 { return "结果未知（超时）" }
                return "结果未知（连接中断）"
            }
            if text.contains("claim expired") { return "结果未知（发送进程中断）" }
            if let status = httpStatus(in: text) { return "结果未知（平台返回 HTTP \(status)）" }
            return "结果未知"
        }
        if text.contains("not sent"), let curl = curlCode(in: text) {
            switch curl {
            case 5, 6: return "无法解析平台域名"
            case 7: return "无法连接平台"
            case 35, 58, 60, 77, 83, 90, 91: return "TLS 证书或握手失败"
            default: return "未发出（网络错误）"
            }
        }
        if text.contains("migrate") || text.contains("moved to chat id") { return "群已升级，需更新 chat_id" }
        if text.contains("too long") || text.contains("too large") { return "内容过长" }
        if let status = httpStatus(in: text) {
            switch status {
            case 404, 410: return "机器人地址无效"
            case 401, 403: return "机器人无权限或已停用"
            case 429: return "发送过快，被平台限流"
            case 500...599: return "平台服务器错误（HTTP \(status)）"
            default: break
            }
        }
        return lastError
    }

    /// What an `errcode N` / `code N` of a platform means, where known.
    static func byCode(_ code: Int, sink: String, text: String) -> String? {
        switch (sink, code) {
        case ("wecom", 93000), ("wecom", 40001), ("wecom", 40014), ("dingtalk", 300001), ("dingtalk", 400102),
            ("discord", 10015), ("discord", 50027):
            return "机器人地址无效"
        case ("wecom", 40058), ("wecom", 45002), ("dingtalk", 460101):
            return "内容过长"
        case ("wecom", 40008):
            return "消息类型无效"
        case ("wecom", 45009), ("dingtalk", 130101), ("feishu", 11232), ("lark", 11232):
            return "发送过快，被平台限流"
        case ("wecom", -1), ("dingtalk", -1):
            return "平台繁忙，多次重试未成功"
        case ("dingtalk", 310000):
            if text.contains("keyword") { return "关键词不匹配" }
            if text.contains("sign") { return "加签校验失败（检查 secret）" }
            if text.contains("timestamp") { return "时间戳无效（检查服务器时间）" }
            if text.contains("whitelist") || text.contains("ip not") { return "服务器 IP 不在机器人白名单" }
            return "安全设置校验失败"
        case ("feishu", 19021), ("lark", 19021):
            return "签名校验失败（检查 secret）"
        case ("feishu", 19024), ("lark", 19024):
            return "关键词不匹配"
        case ("feishu", 9499), ("lark", 9499):
            return "请求参数错误"
        case ("feishu", 19001), ("lark", 19001):
            return "机器人地址无效"
        default:
            return nil
        }
    }

    /// N of `errcode N` or `code N` (WeCom, DingTalk, Feishu, Discord answers).
    static func errcode(in text: String) -> Int? {
        for marker in ["errcode ", "errcode=", "code ", "code="] {
            if let range = text.range(of: marker), let value = leadingInteger(text[range.upperBound...]) {
                return value
            }
        }
        return nil
    }

    /// N of `curl N`.
    static func curlCode(in text: String) -> Int? {
        guard let range = text.range(of: "curl ") else { return nil }
        return leadingInteger(text[range.upperBound...])
    }

    /// N of `http N`.
    static func httpStatus(in text: String) -> Int? {
        guard let range = text.range(of: "http ") else { return nil }
        return leadingInteger(text[range.upperBound...])
    }

    static func leadingInteger(_ text: Substring) -> Int? {
        let sign = text.first == "-" ? "-" : ""
        let digits = text.dropFirst(sign.count).prefix(while: \.isASCII).prefix(while: \.isNumber)
        return digits.isEmpty ? nil : Int(sign + digits)
    }
}
