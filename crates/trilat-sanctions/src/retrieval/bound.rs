//! Bound maths: per-name form weights, the units a query matched, and the score bound.

use super::*;

/// One candidate form's weights in one cache line: its total and the prefix sums of its
/// token weights, heaviest first (`prefix[k - 1]` = weight of the `k` heaviest tokens,
/// rounded *up* to `f32`, so the bound stays an upper bound); on a name's first form, where
/// its other forms are in `Index::forms_more`.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
pub(super) struct FormWeights {
    pub(super) total: f64,
    pub(super) prefix: [f32; TOKENS_MAX],
    pub(super) more_start: u32,
    pub(super) more_n: u8,
    pub(super) tokens_n: u8,
}

/// `x` as the smallest `f32` not below it (`x` finite, non-negative).
pub(super) fn f32_up(x: f64) -> f32 {
    debug_assert!(x.is_finite() && x >= 0.0);
    let rounded = x as f32;
    let up = if f64::from(rounded) < x {
        f32::from_bits(rounded.to_bits() + 1)
    } else {
        rounded
    };
    debug_assert!(f64::from(up) >= x);
    up
}

impl FormWeights {
    pub(super) fn of(weights: &mut [f64]) -> FormWeights {
        assert!(weights.len() <= TOKENS_MAX);
        weights.sort_unstable_by(|a, b| b.total_cmp(a));
        let mut prefix = [0.0f32; TOKENS_MAX];
        let mut sum = 0.0;
        for (slot, weight) in prefix.iter_mut().zip(weights.iter()) {
            sum += weight;
            *slot = f32_up(sum);
        }
        FormWeights {
            total: sum,
            prefix,
            more_start: 0,
            more_n: 0,
            tokens_n: weights.len() as u8,
        }
    }
}

/// The query's units: per form its token bits, weights and total, and per unit the heaviest
/// name-side token its keys can match (per level group: near keys, far keys).
pub(super) struct Units {
    pub(super) weights: [f64; UNITS_MAX],
    /// Heaviest partner through the unit's near keys (exact, Korean, class, one deletion).
    pub(super) partner_near: [f64; UNITS_MAX],
    /// Heaviest partner through the unit's far keys (two deletions).
    pub(super) partner_far: [f64; UNITS_MAX],
    /// Heaviest run of a name's adjacent tokens that spells the unit (its join keys).
    pub(super) partner_run: [f64; UNITS_MAX],
    /// (bits of the form's tokens, the form's total weight)
    pub(super) forms: Vec<(u128, f64)>,
    /// Per form, its joins: (bits of the tokens joined, the joined token's weight).
    pub(super) joins: Vec<Vec<(u128, f64)>>,
    /// Query-side terms of the bound per matched-units triple (few distinct ones per query,
    /// hundreds of names): direct-mapped, `TERMS_MEMO_SLOTS` slots of one entry per form.
    pub(super) memo_keys: Vec<Option<[u128; 3]>>,
    pub(super) memo_terms: Vec<Option<FormTerms>>,
    /// Per slot, [`Units::cap`] of its terms.
    pub(super) memo_cap: Vec<Cap>,
}

/// [`Units::cap`]: upper bounds of [`Index::bound`] over every name, from the query side.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cap {
    /// Over any name.
    pub(super) any: f64,
    /// Over a name not every token of which matched (so the query's unmatched words weigh in
    /// full): one with more tokens than `covered_units_max`.
    pub(super) partial: f64,
    /// The most units any query form matched: a name with more tokens cannot have them all
    /// matched.
    pub(super) covered_units_max: u8,
}

/// Slots of the per-query memo of bound terms.
pub(super) const TERMS_MEMO_SLOTS: usize = 64;

/// The query side of a name's bound for one query form: matched units `k`, their weight
/// times their level's similarity cap, the largest cap, and their heaviest partners' sum.
#[derive(Debug, Clone, Copy)]
pub(super) struct FormTerms {
    /// The query form's total weight.
    pub(super) total: f64,
    pub(super) k: u8,
    pub(super) query_matched: f64,
    pub(super) similarity_max: f64,
    pub(super) partners: f64,
    /// Every unit of the form matched: the name's unmatched words may then weigh
    /// [`crate::matcher::EXTRA_CANDIDATE_WORD_FACTOR`] of their weight ([`name_total`]).
    pub(super) covers_form: bool,
    /// What the matched units weigh (for [`bound_name_covered`]).
    pub(super) matched_weight: f64,
}

/// The bound of a name form every token of which is matched (so at most as many tokens as
/// matched units), when the query's unmatched words may then weigh
/// [`crate::matcher::EXTRA_QUERY_WORD_FACTOR`]: `query_matched` and `similarity_max` as in
/// the other bounds, `query_total` the query form's weight, `matched_weight` what its matched
/// units weigh, `name_matched` at most what the name weighs. The score is at most
/// `(a + s c) / (f q + (1 - f) w + c)`: counting more of the query's units as matched only
/// raises it (each adds `s_u w_u` above and `(1 - f) w_u` below, with `s_u >= 1 - f`), and it
/// grows with `c` (`a <= s w <= s (f q + (1 - f) w)`), so `c` is taken at its most.
pub(super) fn bound_name_covered(
    query_matched: f64,
    similarity_max: f64,
    (query_total, matched_weight): (f64, f64),
    name_matched: f64,
) -> f64 {
    let factor = crate::matcher::EXTRA_QUERY_WORD_FACTOR;
    const _: () = assert!(
        1.0 - crate::matcher::EXTRA_QUERY_WORD_FACTOR <= LEVEL_SIMILARITY_MAX[2],
        "every matched unit raises the bound"
    );
    debug_assert!(matched_weight <= query_total * (1.0 + 1e-9));
    let denominator = factor * query_total + (1.0 - factor) * matched_weight + name_matched;
    if denominator <= 0.0 {
        return 1.0;
    }
    (query_matched + similarity_max * name_matched) / denominator
}

/// The weight a name form counts with in a bound's denominator when its tokens that match
/// weigh at most `name_matched`: its whole weight `name_total`, or, when every query word may
/// match (`covers_form`), the matched weight plus the rest at
/// [`crate::matcher::EXTRA_CANDIDATE_WORD_FACTOR`]. Taking `name_matched` at its most keeps
/// the bound a bound: `(a + s x) / (q + f c + (1 - f) x)` grows with `x` while `a <= s q`.
pub(super) fn name_total(name_total: f64, name_matched: f64, covers_form: bool) -> f64 {
    if !covers_form {
        return name_total;
    }
    let factor = crate::matcher::EXTRA_CANDIDATE_WORD_FACTOR;
    let name_matched = name_matched.min(name_total);
    let lighter = name_matched + factor * (name_total - name_matched);
    debug_assert!(lighter <= name_total + 1e-12);
    lighter
}

/// The heap buffers of [`Units`], kept in [`Scratch`] from one query to the next (allocation
/// showed in the screening profile).
#[derive(Debug, Default)]
pub(super) struct UnitsBuffers {
    pub(super) forms: Vec<(u128, f64)>,
    pub(super) joins: Vec<Vec<(u128, f64)>>,
    pub(super) memo_keys: Vec<Option<[u128; 3]>>,
    pub(super) memo_terms: Vec<Option<FormTerms>>,
    pub(super) memo_cap: Vec<Cap>,
}

/// Relative rounding allowance of [`Units::cap`]: a name's prefix weights are rounded up to
/// `f32` (one part in 2^23 at most), so they may exceed its total by that much.
const CAP_ROUNDING: f64 = 1e-6;

impl Units {
    /// `None` when the query has more than [`UNITS_MAX`] tokens over its forms. `buffers` are
    /// a previous query's ([`Units::into_buffers`]), emptied here.
    pub(super) fn of(forms: &NameForms, rarity: &Rarity, buffers: UnitsBuffers) -> Option<Units> {
        let UnitsBuffers {
            forms: mut unit_forms,
            mut joins,
            mut memo_keys,
            mut memo_terms,
            mut memo_cap,
        } = buffers;
        unit_forms.clear();
        // Inner vectors kept (cleared below, per form) so that their capacity is reused.
        joins.truncate(forms.forms.len());
        memo_keys.clear();
        memo_keys.resize(TERMS_MEMO_SLOTS, None);
        // A slot's terms are read only after being written for the key `memo_keys` holds.
        let terms_n = TERMS_MEMO_SLOTS * forms.forms.len();
        if memo_terms.len() < terms_n {
            memo_terms.resize(terms_n, None);
        }
        memo_cap.resize(TERMS_MEMO_SLOTS, Cap::default());
        let mut units = Units {
            weights: [0.0; UNITS_MAX],
            partner_near: [0.0; UNITS_MAX],
            partner_far: [0.0; UNITS_MAX],
            partner_run: [0.0; UNITS_MAX],
            forms: unit_forms,
            joins,
            memo_keys,
            memo_terms,
            memo_cap,
        };
        let mut next = 0;
        for form in &forms.forms {
            let mut bits = 0u128;
            let mut total = 0.0;
            let form_start = next;
            for token in &form.tokens {
                if next >= UNITS_MAX {
                    return None;
                }
                let weight = rarity.weight(token);
                units.weights[next] = weight;
                total += weight;
                bits |= 1u128 << next;
                next += 1;
            }
            units.forms.push((bits, total));
            let form_idx = units.forms.len() - 1;
            if units.joins.len() == form_idx {
                units.joins.push(Vec::new());
            }
            let form_joins = &mut units.joins[form_idx];
            form_joins.clear();
            form_joins.extend(form.joins.iter().map(|join| {
                let joined = ((1u128 << join.width) - 1) << (form_start + join.start);
                debug_assert_eq!(joined & !bits, 0);
                (joined, rarity.weight(&join.token))
            }));
        }
        debug_assert_eq!(units.joins.len(), units.forms.len());
        Some(units)
    }

    /// The heap buffers, for the next query.
    pub(super) fn into_buffers(self) -> UnitsBuffers {
        UnitsBuffers {
            forms: self.forms,
            joins: self.joins,
            memo_keys: self.memo_keys,
            memo_terms: self.memo_terms,
            memo_cap: self.memo_cap,
        }
    }

    /// The bound's query-side terms per query form for `matched` (`None` for a form none of
    /// whose units matched) and their [`Units::cap`], memoised.
    #[inline]
    pub(super) fn terms(&mut self, matched: [u128; 3]) -> (&[Option<FormTerms>], Cap) {
        let forms_n = self.forms.len();
        let folded = matched.iter().fold(0u64, |h, m| {
            (h ^ (*m as u64) ^ ((*m >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        });
        let slot = (folded >> 58) as usize % TERMS_MEMO_SLOTS;
        // Compared field by field: `!=` on the arrays is a `memcmp` call (seen in the profile).
        let hit = self.memo_keys[slot].is_some_and(|held| {
            held[0] == matched[0] && held[1] == matched[1] && held[2] == matched[2]
        });
        if !hit {
            for (form_idx, &(bits, total)) in self.forms.iter().enumerate() {
                self.memo_terms[slot * forms_n + form_idx] = self.form_terms(matched, bits, total);
            }
            self.memo_keys[slot] = Some(matched);
            self.memo_cap[slot] = Units::cap(&self.memo_terms[slot * forms_n..][..forms_n]);
        }
        let terms = &self.memo_terms[slot * forms_n..(slot + 1) * forms_n];
        (terms, self.memo_cap[slot])
    }

    /// An upper bound of [`Index::bound`] over *every* name, from the query side alone: per
    /// query form `(A + s x) / (Q + C)` with `x` what the name's matched tokens weigh, no
    /// more than the partners' sum `P` nor (up to rounding) the name form's weight `C`, is at
    /// most `(A + s x) / (Q + x)`, which grows with `x` (`A <= s Q`): at most
    /// `(A + s P) / (Q + P)`. Most names touched through one common token (`kim`, `mohammed`)
    /// are below the threshold here, before their own weights are read.
    fn cap(terms: &[Option<FormTerms>]) -> Cap {
        let mut best = KOREAN_SURNAME_ONLY_MAX;
        let mut partial = KOREAN_SURNAME_ONLY_MAX;
        let mut covered_units_max = 0;
        for t in terms.iter().flatten() {
            let denominator = t.total + t.partners;
            if denominator <= 0.0 {
                return Cap {
                    any: 1.0,
                    partial: 1.0,
                    covered_units_max: u8::MAX,
                };
            }
            let cap = (t.query_matched + t.similarity_max * t.partners) / denominator;
            // A name every token of which matched: the query's other words weigh less.
            let covered = bound_name_covered(
                t.query_matched,
                t.similarity_max,
                (t.total, t.matched_weight),
                t.partners,
            );
            best = best.max(cap.max(covered) * (1.0 + CAP_ROUNDING));
            partial = partial.max(cap * (1.0 + CAP_ROUNDING));
            covered_units_max = covered_units_max.max(t.k);
        }
        debug_assert!(partial <= best);
        Cap {
            any: best.min(1.0),
            partial: partial.min(1.0),
            covered_units_max,
        }
    }

    pub(super) fn form_terms(
        &self,
        matched: [u128; 3],
        bits: u128,
        total: f64,
    ) -> Option<FormTerms> {
        // Each unit at its best level only.
        let exact = matched[0] & bits;
        let near = matched[1] & bits & !exact;
        let far = matched[2] & bits & !exact & !near;
        let any = exact | near | far;
        if any == 0 {
            return None;
        }
        let level = if exact != 0 {
            0
        } else if near != 0 {
            1
        } else {
            2
        };
        Some(FormTerms {
            total,
            k: any.count_ones() as u8,
            query_matched: self.weight_of(exact) * LEVEL_SIMILARITY_MAX[0]
                + self.weight_of(near) * LEVEL_SIMILARITY_MAX[1]
                + self.weight_of(far) * LEVEL_SIMILARITY_MAX[2],
            similarity_max: LEVEL_SIMILARITY_MAX[level],
            // Each matched unit pairs with one name token, no heavier than its keys' heaviest.
            partners: self.partners_of(any, 0),
            covers_form: any == bits,
            matched_weight: self.weight_of(any),
        })
    }

    /// Records the heaviest partner of every unit of `key`.
    pub(super) fn add_partners(&mut self, key: &QueryKey) {
        let partners = if key.level == LEVEL_FAR {
            &mut self.partner_far
        } else {
            &mut self.partner_near
        };
        let mut bits = key.units;
        while bits != 0 {
            let unit = bits.trailing_zeros() as usize;
            partners[unit] = partners[unit].max(f64::from(key.range.weight_max));
            bits &= bits - 1;
        }
    }

    /// Records the heaviest run of a name's tokens that spells a unit of `key` (a join key).
    pub(super) fn add_run_partners(&mut self, key: &QueryKey) {
        let mut bits = key.units;
        while bits != 0 {
            let unit = bits.trailing_zeros() as usize;
            self.partner_run[unit] = self.partner_run[unit].max(f64::from(key.range.weight_max));
            bits &= bits - 1;
        }
    }

    /// Upper bound of the score of a name whose adjacent tokens may merge (the query's may
    /// not) when the query units `matched[l]` share a key with it at level `l` and `runs` may
    /// be spelled by a run of its tokens. A merged run meets only the word it spells
    /// (`matcher::generic`), at similarity up to 1, and weighs no more than the heaviest
    /// indexed run that spells it; so the units that can pair are `matched` and `runs`, each
    /// with a partner no heavier than its keys' heaviest token or run. The name's own weights
    /// change with its merges, so, as in [`Units::cap`], they are not read: `(A + s P) / (Q +
    /// P)`, or, every token of the name matched, [`bound_name_covered`].
    pub(super) fn bound_name_runs(&self, matched: [u128; 3], runs: u128) -> f64 {
        let mut matched = matched;
        matched[usize::from(LEVEL_EXACT)] |= runs;
        let mut best = KOREAN_SURNAME_ONLY_MAX;
        for &(bits, total) in &self.forms {
            let Some(t) = self.form_terms(matched, bits, total) else {
                continue;
            };
            let mut partners = 0.0;
            let mut any = (matched[0] | matched[1] | matched[2]) & bits;
            while any != 0 {
                let unit = any.trailing_zeros() as usize;
                let mut partner = self.partner_near[unit].max(self.partner_far[unit]);
                if runs >> unit & 1 != 0 {
                    partner = partner.max(self.partner_run[unit]);
                }
                partners += partner;
                any &= any - 1;
            }
            let denominator = t.total + partners;
            if denominator <= 0.0 {
                return 1.0;
            }
            let cap = (t.query_matched + t.similarity_max * partners) / denominator;
            let weights = (t.total, t.matched_weight);
            let covered = bound_name_covered(t.query_matched, t.similarity_max, weights, partners);
            best = best.max(cap.max(covered) * (1.0 + CAP_ROUNDING));
        }
        best.min(1.0)
    }

    pub(super) fn weight_of(&self, mut bits: u128) -> f64 {
        let mut sum = 0.0;
        while bits != 0 {
            sum += self.weights[bits.trailing_zeros() as usize];
            bits &= bits - 1;
        }
        sum
    }

    /// The most the name side adds for the units `near` (through any key) and `far` (through
    /// far keys only).
    pub(super) fn partners_of(&self, mut near: u128, mut far: u128) -> f64 {
        let mut sum = 0.0;
        while near != 0 {
            let unit = near.trailing_zeros() as usize;
            sum += self.partner_near[unit].max(self.partner_far[unit]);
            near &= near - 1;
        }
        while far != 0 {
            sum += self.partner_far[far.trailing_zeros() as usize];
            far &= far - 1;
        }
        sum
    }

    /// Best generic score a name *not touched* by any read key could reach when the skipped
    /// keys all match it: a unit whose near keys are skipped at similarity up to 1, one whose
    /// far keys only up to 0.71; each matched unit pairs with one name token no heavier than
    /// the heaviest token with one of those keys.
    pub(super) fn untouched_bound(&self, skipped: Skipped) -> f64 {
        let mut best: f64 = 0.0;
        for &(bits, total) in &self.forms {
            let near = skipped.near & bits;
            let far = skipped.far & bits & !near;
            if near | far == 0 {
                continue;
            }
            let similarity_max = if near != 0 {
                LEVEL_SIMILARITY_MAX[0]
            } else {
                LEVEL_SIMILARITY_MAX[2]
            };
            // A near-skipped unit whose far keys are read matches untouched names through
            // near keys only; both skipped, through either.
            let mut other = 0.0;
            let mut bits_left = near;
            while bits_left != 0 {
                let unit = bits_left.trailing_zeros() as usize;
                other += if skipped.far & (1u128 << unit) != 0 {
                    self.partner_near[unit].max(self.partner_far[unit])
                } else {
                    self.partner_near[unit]
                };
                bits_left &= bits_left - 1;
            }
            other += self.partners_of(0, far);
            let query_matched = self.weight_of(near) * LEVEL_SIMILARITY_MAX[0]
                + self.weight_of(far) * LEVEL_SIMILARITY_MAX[2];
            // (a + s x) / (b + x) grows with x while a <= s b, which holds: take x at its most.
            best = best.max((query_matched + similarity_max * other) / (total + other));
            // A name every token of which matched: the query's other words weigh less.
            let matched_weight = self.weight_of(near | far);
            let covered = (total, matched_weight);
            best = best.max(bound_name_covered(
                query_matched,
                similarity_max,
                covered,
                other,
            ));
        }
        best
    }
}

/// Units whose keys are not read: `near`, their exact and near keys (and so assumed to match
/// exactly); `far`, their far keys (assumed to match at the far level).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Skipped {
    pub(super) near: u128,
    pub(super) far: u128,
}

impl Skipped {
    /// True when `key` is not read.
    pub(super) fn covers(self, key: &QueryKey) -> bool {
        let bits = if key.level == LEVEL_FAR {
            self.far
        } else {
            self.near
        };
        key.flags == 0 && key.units & !bits == 0
    }

    /// `matched` with the skipped units assumed matched.
    pub(super) fn assumed(self, mut matched: [u128; 3]) -> [u128; 3] {
        matched[usize::from(LEVEL_EXACT)] |= self.near;
        matched[usize::from(LEVEL_FAR)] |= self.far;
        matched
    }
}

/// Max-score: the (unit, level group) keys that cost most to read are skipped while a name
/// matching only skipped keys stays below `threshold_name`.
pub(super) fn skipped_units(units: &Units, keys: &[QueryKey], threshold_name: f64) -> Skipped {
    // Cost of each unit's near keys (index u) and far keys (index UNITS_MAX + u).
    let mut cost = [0usize; 2 * UNITS_MAX];
    for key in keys.iter().filter(|key| key.flags == 0) {
        let offset = if key.level == LEVEL_FAR { UNITS_MAX } else { 0 };
        let mut bits = key.units;
        while bits != 0 {
            cost[offset + bits.trailing_zeros() as usize] += key.range.len as usize;
            bits &= bits - 1;
        }
    }
    let mut order: Vec<usize> = (0..2 * UNITS_MAX).filter(|&u| cost[u] > 0).collect();
    order.sort_unstable_by(|a, b| cost[*b].cmp(&cost[*a]).then(a.cmp(b)));
    let mut skipped = Skipped::default();
    for slot in order {
        let mut with = skipped;
        if slot >= UNITS_MAX {
            with.far |= 1u128 << (slot - UNITS_MAX);
        } else {
            with.near |= 1u128 << slot;
        }
        if units.untouched_bound(with) + BOUND_SLACK < threshold_name {
            skipped = with;
        }
    }
    skipped
}
