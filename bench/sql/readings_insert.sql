-- The database's own best for a recordReadings batch (bench/run's yardstick): the same
-- bench_series rows (one reading per series at one tick, the batch size), into the same
-- readings table with the same indexes and the same ON CONFLICT DO NOTHING, as one multi-row
-- INSERT generated inside the database, in autocommit. No permit checks, no audit row, no
-- values to parse. Times lie in 2001 (tick from a sequence), apart from the service's.
INSERT INTO readings (outlet_id, permit_id, unit_id, district_code, pollutant, measured_at,
                      value, unit, source, flag, recorded_by_subject, recorded_by_agency, created_at)
SELECT s.outlet_id, s.permit_id, s.unit_id, s.district_code, s.pollutant,
       1000000000 - t.tick * 10, s.value, s.unit, 'AUTOMATIC', 'N', 'bench-yardstick',
       '500000-MON', now()
FROM (SELECT nextval('bench_yardstick_tick') AS tick) t CROSS JOIN bench_series s
ON CONFLICT (outlet_id, pollutant, measured_at, source) DO NOTHING;
