-- PostgreSQL keeps a materialized view of daily sentiment per symbol; SQLite computes
-- symbol sentiment on read, so this migration is empty here (the sets keep the same names).
SELECT 1;
