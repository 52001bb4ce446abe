-- What the intake points write (bench/run, issue 17): outlets and pollutants whose readings
-- pass the service's checks over the whole time window (the last day): the permit VALID from
-- three days ago to beyond tomorrow, not changed in the last three days (so the version in
-- force is the current one), the outlet and the limit on that version. :batch series for
-- recordReadings (and the database's own INSERT beside it), and :devices outlets with
-- pollutants HJ 212 has codes for, for the monitors (MN BENCH0001…), at KEY units first.
DROP TABLE IF EXISTS bench_series, bench_devices;
CREATE TABLE bench_series AS
  SELECT l.outlet_id, l.permit_id, p.unit_id, p.district_code, l.pollutant,
         coalesce(l.concentration_unit, 'mg/L') AS unit, l.concentration_limit AS lim,
         round((coalesce(l.concentration_limit, 10) * 0.5)::numeric, 3)::float8 AS value
  FROM permit_limits l
  JOIN permits p ON p.id = l.permit_id
  JOIN outlets o ON o.id = l.outlet_id
  WHERE p.status = 'VALID' AND p.valid_from <= current_date - 3 AND p.valid_to > current_date + 1
    AND l.retired_in_version IS NULL AND l.since_version <= p.version
    AND o.retired_in_version IS NULL AND o.since_version <= p.version
    AND NOT EXISTS (SELECT 1 FROM permit_versions v WHERE v.permit_id = p.id
                    AND v.created_at > now() - interval '3 days')
  ORDER BY md5(l.id::text)
  LIMIT :batch;
CREATE TABLE bench_devices AS
  -- hj212::intake::POLLUTANTS: code, our name, the unit the code reports in.
  WITH codes(code, pollutant, unit) AS (VALUES
    ('w01018', '化学需氧量', 'mg/L'), ('w21003', '氨氮', 'mg/L'), ('w21011', '总磷', 'mg/L'),
    ('w21001', '总氮', 'mg/L'), ('w01001', 'pH', '无量纲'), ('w01012', '悬浮物', 'mg/L'),
    ('w22001', '石油类', 'mg/L'), ('w01017', '五日生化需氧量', 'mg/L'),
    ('a34013', '颗粒物', 'mg/m³'), ('a21026', '二氧化硫', 'mg/m³'), ('a21002', '氮氧化物', 'mg/m³'),
    ('a24088', '非甲烷总烃', 'mg/m³')),
  outlets_ok AS (
    SELECT o.id AS outlet_id, p.management_category = 'KEY' AS key, o.category,
           string_agg(c.code || '=' || coalesce(l.concentration_limit::text, ''), E'\t' ORDER BY c.code) AS items
    FROM permit_limits l
    JOIN codes c ON c.pollutant = l.pollutant
      AND (l.concentration_unit IS NULL OR replace(l.concentration_unit, 'm3', 'm³') = c.unit)
    JOIN permits p ON p.id = l.permit_id
    JOIN outlets o ON o.id = l.outlet_id
    WHERE p.status = 'VALID' AND p.valid_from <= current_date - 3 AND p.valid_to > current_date + 1
      AND l.retired_in_version IS NULL AND l.since_version <= p.version
      AND o.retired_in_version IS NULL AND o.since_version <= p.version
      AND NOT EXISTS (SELECT 1 FROM permit_versions v WHERE v.permit_id = p.id
                      AND v.created_at > now() - interval '3 days')
    GROUP BY o.id, p.management_category, o.category)
  SELECT 'BENCH' || lpad(row_number() OVER (ORDER BY NOT key, category <> 'MAIN', md5(outlet_id::text))::text, 4, '0') AS mn,
         '123456' AS password, outlet_id, items
  FROM outlets_ok
  ORDER BY NOT key, category <> 'MAIN', md5(outlet_id::text)
  LIMIT :devices;
