-- Q1 as one SQL statement: the same permit, unit, district, outlets with limits and 10 newest
-- findings as GraphQL returns them, built as JSON by the database. :k picks a permit number.
\set k random(1, :nkeys)
SELECT json_build_object(
  'id', p.id, 'permitNumber', p.permit_number, 'status', p.status,
  'managementCategory', p.management_category, 'validFrom', p.valid_from, 'validTo', p.valid_to,
  'unit', json_build_object('id', u.id, 'creditCode', u.credit_code, 'name', u.name,
                            'industryCode', u.industry_code),
  'district', json_build_object('code', d.code, 'name', d.name_zh),
  'outlets', (SELECT coalesce(json_agg(json_build_object(
                 'id', o.id, 'code', o.code, 'medium', o.medium, 'category', o.category,
                 'limits', (SELECT coalesce(json_agg(json_build_object(
                               'id', l.id, 'pollutant', l.pollutant,
                               'concentrationLimit', l.concentration_limit,
                               'concentrationUnit', l.concentration_unit,
                               'annualQuantityTpa', l.annual_quantity_tpa) ORDER BY l.id), '[]')
                            FROM permit_limits l WHERE l.outlet_id = o.id AND l.retired_in_version IS NULL)) ORDER BY o.code), '[]')
              FROM outlets o WHERE o.permit_id = p.id AND o.retired_in_version IS NULL),
  'findings', json_build_object('nodes', (SELECT coalesce(json_agg(json_build_object(
                  'id', f.id, 'foundOn', f.found_on, 'status', f.status, 'severity', f.severity,
                  'category', f.category) ORDER BY f.found_on DESC, f.id DESC), '[]')
               FROM (SELECT * FROM findings WHERE permit_id = p.id
                     ORDER BY found_on DESC, id DESC LIMIT 10) f)))
FROM bench_keys k
JOIN permits p ON p.permit_number = k.value
JOIN units u ON u.id = p.unit_id
JOIN districts d ON d.code = p.district_code
WHERE k.kind = 'permit' AND k.n = :k;
