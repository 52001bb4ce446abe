-- Q2 as one SQL statement: 50 permits of a district (51 read, to know whether a next page
-- exists, as the service does), each with its unit and 5 newest findings, and the district's
-- permit count (totalCount), as JSON.
\set k random(1, :nkeys)
SELECT json_build_object(
  'totalCount', (SELECT count(*) FROM bench_keys k JOIN permits p ON p.district_code = k.value
                 WHERE k.kind = 'district' AND k.n = :k),
  'edges', (SELECT json_agg(r.row ORDER BY r.id) FROM (
  SELECT p.id, json_build_object(
    'id', p.id, 'permitNumber', p.permit_number, 'status', p.status, 'validTo', p.valid_to,
    'unit', json_build_object('id', u.id, 'creditCode', u.credit_code, 'name', u.name),
    'findings', json_build_object('nodes', (SELECT coalesce(json_agg(json_build_object(
                    'id', f.id, 'foundOn', f.found_on, 'status', f.status,
                    'severity', f.severity, 'category', f.category)
                    ORDER BY f.found_on DESC, f.id DESC), '[]')
                 FROM (SELECT * FROM findings WHERE permit_id = p.id
                       ORDER BY found_on DESC, id DESC LIMIT 5) f))) AS row
  FROM bench_keys k
  JOIN permits p ON p.district_code = k.value
  JOIN units u ON u.id = p.unit_id
  WHERE k.kind = 'district' AND k.n = :k
  ORDER BY p.id LIMIT 51) r));
