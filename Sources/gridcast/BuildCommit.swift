/// The commit this binary was built from; `scripts/with-commit.sh` fills it in for a release build and puts this
/// file back afterwards, so the repository always holds `nil`.
let buildCommit: String? = nil
