import Foundation
import GridcastCore

/// The send ledger (台帐): the one place that decides what was sent, what is claimed and what is owed.
///
/// A store fills four roles, each its own protocol so a caller names only what it uses: ``DispatchLedger``
/// (claims and outcomes), ``PlanningLedger`` (notices, deliveries and schedule firings coming in), ``LedgerQueries``
/// (what reports, listings and operators read and settle), ``LedgerAudit`` (the event chain) and ``MassTaskLedger``
/// (customer-group tasks) and ``InstanceLedger`` (instances sharing it). Every requirement is
/// one transaction. What a store must guarantee — exclusive claims, fencing, one event-log head, time for leases,
/// which errors are retried, what each call leaves after a crash — is in `docs/ledger.md`. ``LedgerStores`` opens the
/// store a config names; the embedded one lives in `Sources/Ledger/SQLite/`.
public protocol LedgerStore: DispatchLedger, PlanningLedger, LedgerQueries, LedgerAudit, MassTaskLedger,
    InstanceLedger
{}
