//! The verifiable double-random draw (双随机): random units from the inspection-target list and
//! random inspectors (at least two) from the inspector list, with recusal for declared conflicts
//! (BRIEF "Random draw"; plan §3). The algorithm is a pure function of frozen inputs and a seed,
//! so a stored draw can be re-run and must give the identical result.
//!
//! Weights (local practice): units with a poor credit level or penalised in the last year are
//! always drawn; units with a trustworthy record are drawn half as often as good ones, units
//! with a warning level one and a half times as often; units on a valid positive list are not
//! candidates at all.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::rng::Rng;

/// Bump when the algorithm changes; stored with every draw so old draws replay with their own.
pub const ALGORITHM_VERSION: &str = "weighted-draw-v1";

/// Relative weights in integer units (integers keep the draw identical on every platform).
pub const WEIGHT_TRUSTWORTHY: u32 = 2;
pub const WEIGHT_GOOD: u32 = 4;
pub const WEIGHT_WARNING: u32 = 6;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub unit_id: i64,
    pub weight: u32,
    /// Poor credit or penalised in the last year: always drawn.
    pub mandatory: bool,
}

/// Everything a draw depends on, frozen and stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitDrawInputs {
    /// Sorted by unit id.
    pub candidates: Vec<Candidate>,
    /// Active inspectors of the district, sorted by id.
    pub inspectors: Vec<i64>,
    /// Declared conflicts as (inspector id, unit id), sorted.
    pub conflicts: Vec<(i64, i64)>,
    pub requested_count: u32,
    pub inspectors_per_unit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawnUnit {
    pub unit_id: i64,
    pub mandatory: bool,
    pub inspector_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointGroupInputs {
    /// Group labels, in the order given.
    pub groups: Vec<String>,
    /// District codes, sorted.
    pub districts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAssignment {
    pub district_code: String,
    pub group_label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrawError {
    /// Too few inspectors without a conflict for this unit.
    NotEnoughInspectors {
        unit_id: i64,
        eligible: usize,
        needed: u32,
    },
}

/// SHA-256 (hex) of the canonical JSON of the inputs.
pub fn digest<T: Serialize>(inputs: &T) -> String {
    let json = serde_json::to_vec(inputs).unwrap_or_default();
    format!("{:x}", Sha256::digest(&json))
}

/// Draws units, then assigns each a team. Mandatory units come first (by id), then the drawn
/// ones in draw order. Inspectors are spread: each unit gets the least-loaded eligible
/// inspectors, ties broken at random.
pub fn draw_units(inputs: &UnitDrawInputs, seed: u64) -> Result<Vec<DrawnUnit>, DrawError> {
    let mut rng = Rng::new(seed);
    let mut chosen: Vec<&Candidate> = inputs.candidates.iter().filter(|c| c.mandatory).collect();
    let mut pool: Vec<&Candidate> = inputs.candidates.iter().filter(|c| !c.mandatory).collect();
    let slots = (inputs.requested_count as usize).saturating_sub(chosen.len());
    for _ in 0..slots.min(pool.len()) {
        let weights: Vec<u32> = pool.iter().map(|c| c.weight).collect();
        let index = rng.weighted_index(&weights);
        chosen.push(pool.remove(index));
    }

    let conflicts: HashSet<(i64, i64)> = inputs.conflicts.iter().copied().collect();
    let mut load: HashMap<i64, u32> = inputs.inspectors.iter().map(|id| (*id, 0)).collect();
    let mut drawn = Vec::with_capacity(chosen.len());
    for candidate in chosen {
        let mut eligible: Vec<i64> = inputs
            .inspectors
            .iter()
            .copied()
            .filter(|i| !conflicts.contains(&(*i, candidate.unit_id)))
            .collect();
        if eligible.len() < inputs.inspectors_per_unit as usize {
            return Err(DrawError::NotEnoughInspectors {
                unit_id: candidate.unit_id,
                eligible: eligible.len(),
                needed: inputs.inspectors_per_unit,
            });
        }
        rng.shuffle(&mut eligible);
        eligible.sort_by_key(|i| load.get(i).copied().unwrap_or(0));
        let mut team: Vec<i64> = eligible
            .into_iter()
            .take(inputs.inspectors_per_unit as usize)
            .collect();
        for i in &team {
            *load.entry(*i).or_default() += 1;
        }
        team.sort_unstable();
        drawn.push(DrawnUnit {
            unit_id: candidate.unit_id,
            mandatory: candidate.mandatory,
            inspector_ids: team,
        });
    }
    Ok(drawn)
}

/// Municipal joint groups to districts: the districts in random order, groups dealt round-robin.
pub fn draw_joint_groups(inputs: &JointGroupInputs, seed: u64) -> Vec<GroupAssignment> {
    if inputs.groups.is_empty() {
        return Vec::new();
    }
    let mut rng = Rng::new(seed);
    let mut districts = inputs.districts.clone();
    rng.shuffle(&mut districts);
    districts
        .into_iter()
        .enumerate()
        .map(|(i, district_code)| GroupAssignment {
            district_code,
            group_label: inputs.groups[i % inputs.groups.len()].clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> UnitDrawInputs {
        let candidates = (1..=40)
            .map(|id| Candidate {
                unit_id: id,
                weight: if id % 3 == 0 {
                    WEIGHT_TRUSTWORTHY
                } else {
                    WEIGHT_GOOD
                },
                mandatory: id == 7 || id == 31,
            })
            .collect();
        UnitDrawInputs {
            candidates,
            inspectors: (100..106).collect(),
            conflicts: vec![(100, 7), (101, 7), (102, 12)],
            requested_count: 10,
            inspectors_per_unit: 2,
        }
    }

    #[test]
    fn same_inputs_and_seed_same_draw() {
        let a = draw_units(&inputs(), 42).expect("draw");
        let b = draw_units(&inputs(), 42).expect("draw");
        assert_eq!(a, b);
        let c = draw_units(&inputs(), 43).expect("draw");
        assert_ne!(a, c, "another seed draws differently");
        assert_eq!(digest(&inputs()), digest(&inputs()));
    }

    #[test]
    fn mandatory_units_recusal_and_teams() {
        let drawn = draw_units(&inputs(), 7).expect("draw");
        assert_eq!(drawn.len(), 10);
        assert_eq!(
            (drawn[0].unit_id, drawn[1].unit_id),
            (7, 31),
            "mandatory first"
        );
        let ids: HashSet<i64> = drawn.iter().map(|d| d.unit_id).collect();
        assert_eq!(ids.len(), 10, "no unit twice");
        for unit in &drawn {
            assert_eq!(unit.inspector_ids.len(), 2);
            assert_ne!(unit.inspector_ids[0], unit.inspector_ids[1]);
            for i in &unit.inspector_ids {
                assert!(
                    !inputs().conflicts.contains(&(*i, unit.unit_id)),
                    "recused inspector drawn"
                );
            }
        }
        // Load is spread: 20 assignments over 6 inspectors, nobody above 4.
        let mut load: HashMap<i64, u32> = HashMap::new();
        drawn
            .iter()
            .flat_map(|d| &d.inspector_ids)
            .for_each(|i| *load.entry(*i).or_default() += 1);
        assert!(load.values().all(|n| *n <= 4), "{load:?}");
    }

    #[test]
    fn too_few_eligible_inspectors_is_an_error() {
        let mut i = inputs();
        i.inspectors = vec![100, 101, 102];
        assert_eq!(
            draw_units(&i, 1),
            Err(DrawError::NotEnoughInspectors {
                unit_id: 7,
                eligible: 1,
                needed: 2
            })
        );
    }

    #[test]
    fn joint_groups_cover_every_district() {
        let inputs = JointGroupInputs {
            groups: vec!["第一组".into(), "第二组".into(), "第三组".into()],
            districts: (1..=10).map(|d| format!("5001{d:02}")).collect(),
        };
        let a = draw_joint_groups(&inputs, 9);
        assert_eq!(a, draw_joint_groups(&inputs, 9));
        assert_eq!(a.len(), 10);
        let districts: HashSet<&str> = a.iter().map(|g| g.district_code.as_str()).collect();
        assert_eq!(districts.len(), 10);
    }
}
