-- Q2 as one SQL statement: 50 permits of a district (51 read, to know whether a next page
-- exists, as the service does), each with its unit and 5 newest findings, and the district's
-- permit count (totalCount), as JSON. The page is cut first (ORDER BY id LIMIT 51) and only
-- its rows are joined to their units and findings, as the service's statement does: joining
-- the whole district before the LIMIT read every unit of the district (2 600 at 100 000
-- units) and made this yardstick 2× slower than the database's best at 10 000, 4× at 100 000.
\set k random(1, :nkeys)
SELECT json_build_object(
  'totalCount', (SELECT count(*) FROM permits p WHERE p.district_code = k.value),
  'edges', (SELECT json_agg(json_build_object(
    'id', p.id, 'permitNumber', p.permit_number, 'status', p.status, 'validTo', p.valid_to,
    'unit', json_build_object('id', u.id, 'creditCode', u.credit_code, 'name', u.name),
    'findings', json_build_object('nodes', (SELECT coalesce(json_agg(json_build_object(
                    'id', f.id, 'foundOn', f.found_on, 'status', f.status,
                    'severity', f.severity, 'category', f.category)
                    ORDER BY f.found_on DESC, f.id DESC), '[]')
                 FROM (SELECT * FROM findings WHERE permit_id = p.id
                       ORDER BY found_on DESC, id DESC LIMIT 5) f))) ORDER BY p.id)
    FROM (SELECT * FROM permits WHERE district_code = k.value ORDER BY id LIMIT 51) p
    JOIN units u ON u.id = p.unit_id))
FROM bench_keys k
WHERE k.kind = 'district' AND k.n = :k;
