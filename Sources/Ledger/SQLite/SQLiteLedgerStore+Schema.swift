import Foundation
import GRDB
import GridcastCore

/// The ledger's schema, as migrations: each one as it ran, never edited afterwards.
extension SQLiteLedgerStore {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE notices (
                        id TEXT PRIMARY KEY NOT NULL,
                        title TEXT NOT NULL,
                        text TEXT NOT NULL,
                        urgent INTEGER NOT NULL,
                        content_hash TEXT NOT NULL,
                        selector TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE deliveries (
                        id TEXT PRIMARY KEY NOT NULL,
                        notice_id TEXT NOT NULL REFERENCES notices(id),
                        group_id TEXT NOT NULL,
                        group_name TEXT NOT NULL,
                        sink TEXT NOT NULL,
                        state TEXT NOT NULL
                            CHECK (state IN ('planned','claimed','sent','retry','dead','in_doubt')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        claim_seq INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        lease_until INTEGER,
                        next_at INTEGER NOT NULL,
                        parts_total INTEGER NOT NULL DEFAULT 1,
                        parts_sent INTEGER NOT NULL DEFAULT 0,
                        planned_at INTEGER NOT NULL,
                        first_attempt_at INTEGER,
                        last_attempt_at INTEGER,
                        sent_at INTEGER,
                        updated_at INTEGER NOT NULL,
                        last_error TEXT,
                        UNIQUE (notice_id, group_id)
                    );
                    CREATE INDEX deliveries_due ON deliveries(state, next_at);
                    CREATE INDEX deliveries_updated ON deliveries(updated_at);
                    """
            )
        }
        migrator.registerMigration("v2-part-in-flight") { db in
            // Multi-part deliveries mark each part durably before sending it, so a crash between parts is known
            // to be one: such a delivery resumes at its first unsent part instead of going in_doubt.
            try db.execute(sql: "ALTER TABLE deliveries ADD COLUMN part_in_flight INTEGER")
        }
        migrator.registerMigration("v3-schedule-firings") { db in
            // Every firing of a schedule, fired or skipped, once: a restart never fires it twice.
            try db.execute(
                sql: """
                    CREATE TABLE schedule_firings (
                        schedule_id TEXT NOT NULL,
                        fire_at INTEGER NOT NULL,
                        outcome TEXT NOT NULL CHECK (outcome IN ('fired', 'skipped')),
                        note TEXT NOT NULL DEFAULT '',
                        notices TEXT NOT NULL DEFAULT '',
                        recorded_at INTEGER NOT NULL,
                        PRIMARY KEY (schedule_id, fire_at)
                    )
                    """
            )
        }
        migrator.registerMigration("v4-event-log") { db in
            // Tamper evidence: from here on every change is also an event in a hash chain. Rows that already exist
            // are adopted by the first event, so an older ledger verifies from the moment it was upgraded.
            try db.execute(sql: EventLog.createTable)
            var images: [RowImage] = []
            for table in ["notices", "deliveries", "schedule_firings"] {
                images += try EventLog.images(db, table: table)
            }
            try EventLog.append(db, kind: .adopt, actor: "migration v4", at: Date(), images: images)
        }
        migrator.registerMigration("v5-state-check-without-in") { db in
            // `CHECK (state IN (…))` built a scratch table of the six names for every row written: about a third of
            // a claim's or an outcome's update. Comparisons accept exactly the same states for a fraction of that.
            // SQLite can't alter a CHECK in place, so the table is rebuilt as its documentation describes, rows and
            // rowids kept (the event log keys rows by id, and nothing but the schema changes).
            let columns = """
                id, notice_id, group_id, group_name, sink, state, attempts, claim_seq, lease_owner, lease_until,
                next_at, parts_total, parts_sent, planned_at, first_attempt_at, last_attempt_at, sent_at, updated_at,
                last_error, part_in_flight
                """
            try db.execute(
                sql: """
                    CREATE TABLE deliveries_v5 (
                        id TEXT PRIMARY KEY NOT NULL,
                        notice_id TEXT NOT NULL REFERENCES notices(id),
                        group_id TEXT NOT NULL,
                        group_name TEXT NOT NULL,
                        sink TEXT NOT NULL,
                        state TEXT NOT NULL
                            CHECK (state = 'planned' OR state = 'claimed' OR state = 'sent' OR state = 'retry'
                                OR state = 'dead' OR state = 'in_doubt'),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        claim_seq INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        lease_until INTEGER,
                        next_at INTEGER NOT NULL,
                        parts_total INTEGER NOT NULL DEFAULT 1,
                        parts_sent INTEGER NOT NULL DEFAULT 0,
                        planned_at INTEGER NOT NULL,
                        first_attempt_at INTEGER,
                        last_attempt_at INTEGER,
                        sent_at INTEGER,
                        updated_at INTEGER NOT NULL,
                        last_error TEXT,
                        part_in_flight INTEGER,
                        UNIQUE (notice_id, group_id)
                    );
                    INSERT INTO deliveries_v5 (rowid, \(columns)) SELECT rowid, \(columns) FROM deliveries ORDER BY rowid;
                    DROP TABLE deliveries;
                    ALTER TABLE deliveries_v5 RENAME TO deliveries;
                    CREATE INDEX deliveries_due ON deliveries(state, next_at);
                    CREATE INDEX deliveries_updated ON deliveries(updated_at);
                    """
            )
        }
        migrator.registerMigration("v6-partial-indexes") { db in
            // Two full indexes made every claim and every outcome rewrite four index entries: (state, next_at) and
            // updated_at both change each time. Sent rows, nearly all of them, are never searched by state and
            // only by time, and open rows are few: so one index holds the rows not sent (the claims, lease expiry,
            // listings by state) and one the sent rows by time (the daily report). A delivery's claim then moves
            // one entry and its outcome two. The statements are written out, not shared: a migration stays as it
            // ran. Queries compare the state with literals (`StateCondition`), as the partial indexes require.
            try db.execute(
                sql: """
                    DROP INDEX deliveries_due;
                    DROP INDEX deliveries_updated;
                    CREATE INDEX deliveries_unsent ON deliveries(state, next_at)
                        WHERE state = 'planned' OR state = 'claimed' OR state = 'retry' OR state = 'dead'
                            OR state = 'in_doubt';
                    CREATE INDEX deliveries_sent ON deliveries(updated_at) WHERE state = 'sent';
                    """
            )
        }
        migrator.registerMigration("v7-cancelled") { db in
            // An operator can end unsent deliveries as `cancelled`. The state CHECK gains it, so the table is rebuilt
            // as in v5 (rows and rowids kept: the event log keys rows by id, and no row changes); the partial index of
            // rows not sent holds cancelled ones too, as `StateCondition.unsentStates` expects.
            let columns = """
                id, notice_id, group_id, group_name, sink, state, attempts, claim_seq, lease_owner, lease_until,
                next_at, parts_total, parts_sent, planned_at, first_attempt_at, last_attempt_at, sent_at, updated_at,
                last_error, part_in_flight
                """
            try db.execute(
                sql: """
                    CREATE TABLE deliveries_v7 (
                        id TEXT PRIMARY KEY NOT NULL,
                        notice_id TEXT NOT NULL REFERENCES notices(id),
                        group_id TEXT NOT NULL,
                        group_name TEXT NOT NULL,
                        sink TEXT NOT NULL,
                        state TEXT NOT NULL
                            CHECK (state = 'planned' OR state = 'claimed' OR state = 'sent' OR state = 'retry'
                                OR state = 'dead' OR state = 'in_doubt' OR state = 'cancelled'),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        claim_seq INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        lease_until INTEGER,
                        next_at INTEGER NOT NULL,
                        parts_total INTEGER NOT NULL DEFAULT 1,
                        parts_sent INTEGER NOT NULL DEFAULT 0,
                        planned_at INTEGER NOT NULL,
                        first_attempt_at INTEGER,
                        last_attempt_at INTEGER,
                        sent_at INTEGER,
                        updated_at INTEGER NOT NULL,
                        last_error TEXT,
                        part_in_flight INTEGER,
                        UNIQUE (notice_id, group_id)
                    );
                    INSERT INTO deliveries_v7 (rowid, \(columns)) SELECT rowid, \(columns) FROM deliveries ORDER BY rowid;
                    DROP TABLE deliveries;
                    ALTER TABLE deliveries_v7 RENAME TO deliveries;
                    CREATE INDEX deliveries_unsent ON deliveries(state, next_at)
                        WHERE state = 'planned' OR state = 'claimed' OR state = 'retry' OR state = 'dead'
                            OR state = 'in_doubt' OR state = 'cancelled';
                    CREATE INDEX deliveries_sent ON deliveries(updated_at) WHERE state = 'sent';
                    """
            )
        }
        migrator.registerMigration("v8-accepted") { db in
            // A delivery the platform accepted without confirming it was posted (Teams Workflows' 202) ends as
            // `accepted`, final and counted apart from `sent`. The state CHECK gains it, so the table is rebuilt as in
            // v7 (rows and rowids kept, no row changes); the partial index of rows not sent holds accepted ones, as
            // `StateCondition.unsentStates` expects.
            let columns = """
                id, notice_id, group_id, group_name, sink, state, attempts, claim_seq, lease_owner, lease_until,
                next_at, parts_total, parts_sent, planned_at, first_attempt_at, last_attempt_at, sent_at, updated_at,
                last_error, part_in_flight
                """
            try db.execute(
                sql: """
                    CREATE TABLE deliveries_v8 (
                        id TEXT PRIMARY KEY NOT NULL,
                        notice_id TEXT NOT NULL REFERENCES notices(id),
                        group_id TEXT NOT NULL,
                        group_name TEXT NOT NULL,
                        sink TEXT NOT NULL,
                        state TEXT NOT NULL
                            CHECK (state = 'planned' OR state = 'claimed' OR state = 'sent' OR state = 'retry'
                                OR state = 'dead' OR state = 'in_doubt' OR state = 'cancelled' OR state = 'accepted'),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        claim_seq INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        lease_until INTEGER,
                        next_at INTEGER NOT NULL,
                        parts_total INTEGER NOT NULL DEFAULT 1,
                        parts_sent INTEGER NOT NULL DEFAULT 0,
                        planned_at INTEGER NOT NULL,
                        first_attempt_at INTEGER,
                        last_attempt_at INTEGER,
                        sent_at INTEGER,
                        updated_at INTEGER NOT NULL,
                        last_error TEXT,
                        part_in_flight INTEGER,
                        UNIQUE (notice_id, group_id)
                    );
                    INSERT INTO deliveries_v8 (rowid, \(columns)) SELECT rowid, \(columns) FROM deliveries ORDER BY rowid;
                    DROP TABLE deliveries;
                    ALTER TABLE deliveries_v8 RENAME TO deliveries;
                    CREATE INDEX deliveries_unsent ON deliveries(state, next_at)
                        WHERE state = 'planned' OR state = 'claimed' OR state = 'retry' OR state = 'dead'
                            OR state = 'in_doubt' OR state = 'cancelled' OR state = 'accepted';
                    CREATE INDEX deliveries_sent ON deliveries(updated_at) WHERE state = 'sent';
                    """
            )
        }
        migrator.registerMigration("v9-posters") { db in
            // Notices carry a poster and a link card (docs/rich-notices.md), and a delivery says what its group gets
            // short of the whole notice. Posters are stored once per image, keyed by their SHA-256; a notice names its
            // poster and holds the card's fields. Rows that exist gain the new columns as NULL: events record
            // their full images again, so every row still equals its replayed image and an upgraded ledger verifies.
            try db.execute(
                sql: """
                    CREATE TABLE posters (
                        sha256 TEXT PRIMARY KEY NOT NULL,
                        format TEXT NOT NULL CHECK (format = 'png' OR format = 'jpeg'),
                        size INTEGER NOT NULL,
                        bytes BLOB NOT NULL
                    );
                    ALTER TABLE notices ADD COLUMN poster_sha256 TEXT REFERENCES posters(sha256);
                    ALTER TABLE notices ADD COLUMN image_url TEXT;
                    ALTER TABLE notices ADD COLUMN link_url TEXT;
                    ALTER TABLE notices ADD COLUMN link_title TEXT;
                    ALTER TABLE notices ADD COLUMN link_description TEXT;
                    ALTER TABLE notices ADD COLUMN link_picurl TEXT;
                    ALTER TABLE deliveries ADD COLUMN note TEXT;
                    """
            )
            try Self.adoptAgain(db, tables: ["notices", "deliveries"], actor: "migration v9")
        }
        migrator.registerMigration("v10-mass-tasks") { db in
            // Customer groups are reached through mass-message tasks that a member confirms (docs/customer-groups.md):
            // a delivery waits as `awaiting_confirmation` and ends `sent` (with the platform's send time),
            // `quota_refused`, `not_delivered` or `expired`. The state CHECK gains them (the table rebuilt as in v8,
            // rows and rowids kept) and a delivery names its task. Tasks have a table of their own, in the event log
            // like every other. Rows that exist gain `task_id` as NULL: they are adopted again, as in v9.
            let columns = """
                id, notice_id, group_id, group_name, sink, state, attempts, claim_seq, lease_owner, lease_until,
                next_at, parts_total, parts_sent, planned_at, first_attempt_at, last_attempt_at, sent_at, updated_at,
                last_error, part_in_flight, note
                """
            try db.execute(
                sql: """
                    CREATE TABLE mass_tasks (
                        id INTEGER PRIMARY KEY NOT NULL,
                        notice_id TEXT NOT NULL REFERENCES notices(id),
                        app TEXT NOT NULL,
                        owner TEXT NOT NULL,
                        batch INTEGER NOT NULL,
                        state TEXT NOT NULL
                            CHECK (state = 'creating' OR state = 'open' OR state = 'closed' OR state = 'failed'
                                OR state = 'lost'),
                        msgid TEXT,
                        claim_seq INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        lease_until INTEGER,
                        created_at INTEGER NOT NULL,
                        deadline_at INTEGER,
                        next_at INTEGER NOT NULL,
                        reminders INTEGER NOT NULL DEFAULT 0,
                        cancelled_at INTEGER,
                        last_error TEXT,
                        updated_at INTEGER NOT NULL,
                        UNIQUE (notice_id, app, owner, batch)
                    );
                    CREATE INDEX mass_tasks_open ON mass_tasks(state, next_at)
                        WHERE state = 'creating' OR state = 'open';
                    CREATE TABLE deliveries_v10 (
                        id TEXT PRIMARY KEY NOT NULL,
                        notice_id TEXT NOT NULL REFERENCES notices(id),
                        group_id TEXT NOT NULL,
                        group_name TEXT NOT NULL,
                        sink TEXT NOT NULL,
                        state TEXT NOT NULL
                            CHECK (state = 'planned' OR state = 'claimed' OR state = 'sent' OR state = 'retry'
                                OR state = 'dead' OR state = 'in_doubt' OR state = 'cancelled' OR state = 'accepted'
                                OR state = 'awaiting_confirmation' OR state = 'quota_refused'
                                OR state = 'not_delivered' OR state = 'expired'),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        claim_seq INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        lease_until INTEGER,
                        next_at INTEGER NOT NULL,
                        parts_total INTEGER NOT NULL DEFAULT 1,
                        parts_sent INTEGER NOT NULL DEFAULT 0,
                        planned_at INTEGER NOT NULL,
                        first_attempt_at INTEGER,
                        last_attempt_at INTEGER,
                        sent_at INTEGER,
                        updated_at INTEGER NOT NULL,
                        last_error TEXT,
                        part_in_flight INTEGER,
                        note TEXT,
                        task_id INTEGER REFERENCES mass_tasks(id),
                        UNIQUE (notice_id, group_id)
                    );
                    INSERT INTO deliveries_v10 (rowid, \(columns)) SELECT rowid, \(columns) FROM deliveries ORDER BY rowid;
                    DROP TABLE deliveries;
                    ALTER TABLE deliveries_v10 RENAME TO deliveries;
                    CREATE INDEX deliveries_unsent ON deliveries(state, next_at)
                        WHERE state = 'planned' OR state = 'claimed' OR state = 'retry' OR state = 'dead'
                            OR state = 'in_doubt' OR state = 'cancelled' OR state = 'accepted'
                            OR state = 'awaiting_confirmation' OR state = 'quota_refused' OR state = 'not_delivered'
                            OR state = 'expired';
                    CREATE INDEX deliveries_sent ON deliveries(updated_at) WHERE state = 'sent';
                    CREATE INDEX deliveries_task ON deliveries(task_id) WHERE task_id IS NOT NULL;
                    CREATE INDEX deliveries_customer ON deliveries(group_id, state)
                        WHERE sink = 'wecom-customer-group';
                    """
            )
            try Self.adoptAgain(db, tables: ["deliveries"], actor: "migration v10")
        }
        migrator.registerMigration("v11-listing-indexes") { db in
            // Audits at a year's size: a listing is read page by page in notice then planning order, each page
            // starting where the last ended, and one group's history is read by its group id, without going through
            // every row. Indexes only: no row changes, nothing to log.
            try db.execute(
                sql: """
                    CREATE INDEX deliveries_notice ON deliveries(notice_id);
                    CREATE INDEX deliveries_group ON deliveries(group_id);
                    """
            )
        }
        migrator.registerMigration("v12-tallies") { db in
            // Reports at a year's size: a period's counts added up as deliveries settle, so a report reads a few
            // sums per group and quarter hour instead of every row (docs/ledger.md, "Tallies"). Triggers keep them
            // in the transaction that changes the row, so they can't drift from it in a crash; the three open
            // states are left out (a delivery passes through them quickly, and reports count them from the
            // rows). `verify` checks the sums against the rows.
            try db.execute(
                sql: """
                    CREATE TABLE tally_groups (
                        bucket INTEGER NOT NULL,
                        group_id TEXT NOT NULL,
                        group_name TEXT NOT NULL,
                        sink TEXT NOT NULL,
                        state TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (bucket, group_id, group_name, sink, state)
                    ) WITHOUT ROWID;
                    CREATE TABLE tally_notices (
                        bucket INTEGER NOT NULL,
                        notice_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (bucket, notice_id, state)
                    ) WITHOUT ROWID;
                    CREATE TRIGGER tally_insert AFTER INSERT ON deliveries
                    WHEN NEW.state <> 'planned' AND NEW.state <> 'claimed' AND NEW.state <> 'retry'
                    BEGIN
                        INSERT INTO tally_groups VALUES
                            (NEW.updated_at / 900000, NEW.group_id, NEW.group_name, NEW.sink, NEW.state, 1)
                            ON CONFLICT DO UPDATE SET count = count + 1;
                        INSERT INTO tally_notices VALUES (NEW.updated_at / 900000, NEW.notice_id, NEW.state, 1)
                            ON CONFLICT DO UPDATE SET count = count + 1;
                    END;
                    CREATE TRIGGER tally_leave AFTER UPDATE ON deliveries
                    WHEN OLD.state <> 'planned' AND OLD.state <> 'claimed' AND OLD.state <> 'retry'
                        AND (OLD.state <> NEW.state OR OLD.updated_at / 900000 <> NEW.updated_at / 900000
                            OR OLD.group_id <> NEW.group_id OR OLD.group_name <> NEW.group_name
                            OR OLD.sink <> NEW.sink OR OLD.notice_id <> NEW.notice_id)
                    BEGIN
                        UPDATE tally_groups SET count = count - 1
                            WHERE bucket = OLD.updated_at / 900000 AND group_id = OLD.group_id
                                AND group_name = OLD.group_name AND sink = OLD.sink AND state = OLD.state;
                        DELETE FROM tally_groups
                            WHERE bucket = OLD.updated_at / 900000 AND group_id = OLD.group_id
                                AND group_name = OLD.group_name AND sink = OLD.sink AND state = OLD.state
                                AND count = 0;
                        UPDATE tally_notices SET count = count - 1
                            WHERE bucket = OLD.updated_at / 900000 AND notice_id = OLD.notice_id
                                AND state = OLD.state;
                        DELETE FROM tally_notices
                            WHERE bucket = OLD.updated_at / 900000 AND notice_id = OLD.notice_id
                                AND state = OLD.state AND count = 0;
                    END;
                    CREATE TRIGGER tally_enter AFTER UPDATE ON deliveries
                    WHEN NEW.state <> 'planned' AND NEW.state <> 'claimed' AND NEW.state <> 'retry'
                        AND (OLD.state <> NEW.state OR OLD.updated_at / 900000 <> NEW.updated_at / 900000
                            OR OLD.group_id <> NEW.group_id OR OLD.group_name <> NEW.group_name
                            OR OLD.sink <> NEW.sink OR OLD.notice_id <> NEW.notice_id)
                    BEGIN
                        INSERT INTO tally_groups VALUES
                            (NEW.updated_at / 900000, NEW.group_id, NEW.group_name, NEW.sink, NEW.state, 1)
                            ON CONFLICT DO UPDATE SET count = count + 1;
                        INSERT INTO tally_notices VALUES (NEW.updated_at / 900000, NEW.notice_id, NEW.state, 1)
                            ON CONFLICT DO UPDATE SET count = count + 1;
                    END;
                    INSERT INTO tally_groups
                        SELECT updated_at / 900000, group_id, group_name, sink, state, count(*) FROM deliveries
                        WHERE state <> 'planned' AND state <> 'claimed' AND state <> 'retry'
                        GROUP BY 1, 2, 3, 4, 5;
                    INSERT INTO tally_notices
                        SELECT updated_at / 900000, notice_id, state, count(*) FROM deliveries
                        WHERE state <> 'planned' AND state <> 'claimed' AND state <> 'retry'
                        GROUP BY 1, 2, 3;
                    """
            )
        }
        return migrator
    }

    /// Logs the full image of every row of `tables` again, a thousand rows per event (so a large ledger is never held
    /// in memory as one payload): after a migration adds columns, every row still equals its replayed image.
    static func adoptAgain(_ db: Database, tables: [String], actor: String) throws {
        let at = Date()
        for table in tables {
            var writer = RowWriter(table: table)
            var json = CanonicalJSON()
            var count = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \(table) ORDER BY rowid")
            while let row = try rows.next() {
                writer.append(row, to: &json)
                count += 1
                if count % 1000 == 0 {
                    try EventLog.append(db, kind: .adopt, actor: actor, at: at, json: json)
                    json = CanonicalJSON()
                }
            }
            try EventLog.append(db, kind: .adopt, actor: actor, at: at, json: json)
        }
    }
}
