-- Rework after an upheld dispute: QA redelivers the task's next revision as an item of its own
-- that supersedes the disputed one. It is exported like any item (with its revision in the
-- record's provenance) but is not a new item toward the project's target. The audited item
-- records the rework and, once delivered, the item that replaces it.
ALTER TABLE items ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1);
ALTER TABLE items ADD COLUMN supersedes uuid REFERENCES items (item_id);
ALTER TABLE audit_samples ADD COLUMN rework_revision integer NOT NULL DEFAULT 0;
ALTER TABLE audit_samples ADD COLUMN rework_item_id uuid REFERENCES items (item_id);
CREATE INDEX audit_samples_upheld ON audit_samples (item_id) WHERE dispute = 'upheld';
