/// The state a mass-message task takes after an update, as every store records it (docs/customer-groups.md):
/// `lost` when its creation was not found again, `failed` when it ended otherwise, `closed` once no delivery of it
/// waits, `creating` while a creation whose answer was lost is still being looked for, else `open`.
enum TaskStates {
    static func after(_ update: TaskUpdate, current: String, remaining: Int) -> String {
        switch update.ended {
        case .inDoubt?: "lost"
        case .some: "failed"
        // Still to be found: claimable again once its claim (set to the next call) has run out.
        case nil where current == "creating" && update.created == nil: remaining == 0 ? "closed" : "creating"
        case nil: remaining == 0 ? "closed" : "open"
        }
    }
}
