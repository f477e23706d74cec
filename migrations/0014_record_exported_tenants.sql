-- A month's export records each tenant's object once it is uploaded, so that a run cut off
-- mid-export (a month larger than one Lambda run of 15 minutes exports) resumes at the next
-- tenant instead of starting the month over and never finishing it. Emptied when the export
-- starts over (rows arrived that the archive lacks).
ALTER TABLE retention_runs ADD COLUMN exported jsonb NOT NULL DEFAULT '[]';
