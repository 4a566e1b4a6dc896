//! DynamoDB's rules, as pure functions both backends share: which requests it refuses (beyond the
//! limits in [`crate::checks`]), how it stores numbers, how a condition is judged against an item and
//! how an update changes one.
//!
//! The SQLite backend evaluates conditions and updates with these functions. The DynamoDB backend uses
//! the request rules and number normalisation before it sends anything, so that both refuse the same
//! requests with the same `StoreError` (rather than DynamoDB answering with a `ValidationException`
//! that would have to be recognised by its message), and so that an emulator that is laxer than
//! DynamoDB (moto) still gives DynamoDB's answers.

use crate::checks;
use crate::item::{AttrValue, Item};
use crate::table::{
    Condition, Index, Key, PK, Query, SK, SortKeyCondition, StoreError, StoreResult, TxAction,
    Update, UpdateAction, VERSION,
};

/// DynamoDB's limit on a partition key value, in bytes (table and index alike).
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// DynamoDB's limit on a sort key value, in bytes (table and index alike).
pub const MAX_SORT_KEY_BYTES: usize = 1024;

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::InvalidRequest(message.into())
}

// ---------------------------------------------------------------------------------------------------
// Request rules.

/// A table key DynamoDB accepts: non-empty strings within the key-size limits.
pub fn key(key: &Key) -> StoreResult<()> {
    key_value(PK, &key.pk, MAX_PARTITION_KEY_BYTES)?;
    key_value(SK, &key.sk, MAX_SORT_KEY_BYTES)
}

fn key_value(attr: &str, value: &str, max: usize) -> StoreResult<()> {
    if value.is_empty() {
        return Err(invalid(format!("{attr} must not be empty")));
    }
    if value.len() > max {
        return Err(invalid(format!(
            "{attr} is {} bytes, over DynamoDB's {max}-byte limit",
            value.len()
        )));
    }
    Ok(())
}

/// An item as DynamoDB stores it: numbers valid and in canonical form, non-empty attribute names, a
/// valid key, and index key attributes (where present) non-empty strings.
///
/// DynamoDB refuses a write that gives an index key attribute another type ("Type mismatch for Index
/// Key"), so an item is in an index exactly when it has both of the index's key attributes.
pub fn item(item: Item) -> StoreResult<Item> {
    let item = item
        .into_iter()
        .map(|(name, value)| {
            if name.is_empty() {
                return Err(invalid("an attribute name must not be empty"));
            }
            Ok((name, value_of_item(value)?))
        })
        .collect::<StoreResult<Item>>()?;
    let k = Key::of(&item).ok_or_else(|| invalid("an item needs string PK and SK"))?;
    key(&k)?;
    index_keys(&item)?;
    Ok(item)
}

fn index_keys(item: &Item) -> StoreResult<()> {
    for index in Index::ALL {
        for (attr, max) in [
            (index.pk_attr(), MAX_PARTITION_KEY_BYTES),
            (index.sk_attr(), MAX_SORT_KEY_BYTES),
        ] {
            match item.get(attr) {
                None => {}
                Some(AttrValue::S(value)) => key_value(attr, value, max)?,
                Some(_) => {
                    return Err(invalid(format!(
                        "{attr} is a key of index {} and must be a string",
                        index.name()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The key of `item` in `index`, if the item is in it.
pub fn index_key(item: &Item, index: Index) -> Option<(&str, &str)> {
    let pk = item.get(index.pk_attr())?.as_str()?;
    let sk = item.get(index.sk_attr())?.as_str()?;
    Some((pk, sk))
}

/// A value as DynamoDB stores it: numbers (also nested ones) in canonical form.
pub fn value_of_item(value: AttrValue) -> StoreResult<AttrValue> {
    Ok(match value {
        AttrValue::N(n) => AttrValue::N(number::canonical(&n)?),
        AttrValue::L(list) => AttrValue::L(
            list.into_iter()
                .map(value_of_item)
                .collect::<StoreResult<_>>()?,
        ),
        AttrValue::M(map) => AttrValue::M(
            map.into_iter()
                .map(|(k, v)| Ok((k, value_of_item(v)?)))
                .collect::<StoreResult<_>>()?,
        ),
        other => other,
    })
}

/// DynamoDB's limit on the values of one `IN`.
const MAX_IN_VALUES: usize = 100;

/// A condition DynamoDB accepts, its values in canonical form.
pub fn condition(condition: Condition) -> StoreResult<Condition> {
    Ok(match condition {
        Condition::Equals(attr, value) => {
            attr_name(&attr)?;
            Condition::Equals(attr, value_of_item(value)?)
        }
        Condition::AttrNotExists(attr) => {
            attr_name(&attr)?;
            Condition::AttrNotExists(attr)
        }
        Condition::AbsentOrBelow(attr, limit) => {
            attr_name(&attr)?;
            Condition::AbsentOrBelow(attr, limit)
        }
        Condition::OneOf(attr, values) => {
            attr_name(&attr)?;
            if values.is_empty() || values.len() > MAX_IN_VALUES {
                return Err(StoreError::InvalidRequest(format!(
                    "IN takes 1 to {MAX_IN_VALUES} values, got {}",
                    values.len()
                )));
            }
            Condition::OneOf(
                attr,
                values
                    .into_iter()
                    .map(value_of_item)
                    .collect::<StoreResult<_>>()?,
            )
        }
        Condition::And(all) => Condition::And(
            all.into_iter()
                .map(self::condition)
                .collect::<StoreResult<_>>()?,
        ),
        other @ (Condition::NotExists | Condition::Exists | Condition::VersionEquals(_)) => other,
    })
}

fn attr_name(attr: &str) -> StoreResult<()> {
    if attr.is_empty() {
        return Err(invalid("an attribute name must not be empty"));
    }
    Ok(())
}

fn optional_condition(c: Option<Condition>) -> StoreResult<Option<Condition>> {
    c.map(condition).transpose()
}

/// An update DynamoDB accepts (after [`checks::update`]): a valid key, each attribute named by one
/// action only (DynamoDB: "Two document paths overlap"), values in canonical form, and index key
/// attributes only ever set to strings.
pub fn update(update: Update) -> StoreResult<Update> {
    key(&update.key)?;
    let mut seen = std::collections::HashSet::new();
    let mut actions = Vec::with_capacity(update.actions.len());
    for action in update.actions {
        let attr = match &action {
            UpdateAction::Set(a, _) | UpdateAction::Add(a, _) | UpdateAction::Remove(a) => a,
        };
        attr_name(attr)?;
        if !seen.insert(attr.clone()) {
            return Err(invalid(format!(
                "two actions of one update on attribute {attr}"
            )));
        }
        let is_index_key = Index::ALL
            .iter()
            .any(|i| i.pk_attr() == attr || i.sk_attr() == attr);
        actions.push(match action {
            UpdateAction::Set(attr, value) => {
                let value = value_of_item(value)?;
                if is_index_key {
                    index_keys(&Item::from([(attr.clone(), value.clone())]))?;
                }
                UpdateAction::Set(attr, value)
            }
            UpdateAction::Add(attr, _) if is_index_key => {
                return Err(invalid(format!(
                    "{attr} is an index key and must be a string, not a number"
                )));
            }
            other => other,
        });
    }
    Ok(Update {
        key: update.key,
        actions,
        condition: optional_condition(update.condition)?,
    })
}

/// A delete's or check's key and condition.
pub fn keyed(k: &Key, c: Option<Condition>) -> StoreResult<Option<Condition>> {
    key(k)?;
    optional_condition(c)
}

/// A put's item and condition.
pub fn put(i: Item, c: Option<Condition>) -> StoreResult<(Item, Option<Condition>)> {
    Ok((item(i)?, optional_condition(c)?))
}

/// Every action of a transaction (after [`checks::transaction`]).
pub fn transaction(actions: Vec<TxAction>) -> StoreResult<Vec<TxAction>> {
    actions
        .into_iter()
        .map(|action| {
            Ok(match action {
                TxAction::Put { item, condition } => {
                    let (item, condition) = put(item, condition)?;
                    TxAction::Put { item, condition }
                }
                TxAction::Update(u) => TxAction::Update(update(u)?),
                TxAction::Delete { key, condition } => {
                    let condition = keyed(&key, condition)?;
                    TxAction::Delete { key, condition }
                }
                TxAction::Check { key, condition } => {
                    self::key(&key)?;
                    TxAction::Check {
                        key,
                        condition: self::condition(condition)?,
                    }
                }
            })
        })
        .collect()
}

/// A query DynamoDB accepts: a non-empty partition, non-empty sort-key bounds in order, a limit of at
/// least 1.
pub fn query(query: &Query) -> StoreResult<()> {
    if query.pk.is_empty() {
        return Err(invalid("a query needs a non-empty partition key"));
    }
    if query.limit == Some(0) {
        return Err(invalid("a query's limit must be at least 1"));
    }
    let Some(condition) = &query.sk else {
        return Ok(());
    };
    let bounds: Vec<&String> = match condition {
        SortKeyCondition::Between(low, high) => {
            if low.as_bytes() > high.as_bytes() {
                return Err(invalid(
                    "BETWEEN needs its lower bound not above its upper bound",
                ));
            }
            vec![low, high]
        }
        SortKeyCondition::Equals(v)
        | SortKeyCondition::BeginsWith(v)
        | SortKeyCondition::LessThan(v)
        | SortKeyCondition::LessOrEqual(v)
        | SortKeyCondition::GreaterThan(v)
        | SortKeyCondition::GreaterOrEqual(v) => vec![v],
    };
    if bounds.iter().any(|b| b.is_empty()) {
        return Err(invalid("a sort-key condition needs a non-empty value"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Evaluation (the SQLite backend's; DynamoDB evaluates on its side).

/// Whether `condition` holds for the current item (`None` when absent), as DynamoDB judges it.
pub fn holds(condition: &Condition, item: Option<&Item>) -> bool {
    match condition {
        Condition::NotExists => item.is_none(),
        Condition::Exists => item.is_some(),
        Condition::Equals(attr, value) => item
            .and_then(|i| i.get(attr))
            .is_some_and(|current| same_value(current, value)),
        Condition::AttrNotExists(attr) => item.is_none_or(|i| !i.contains_key(attr)),
        // DynamoDB's `<` between a number and anything else is false.
        Condition::AbsentOrBelow(attr, limit) => match item.and_then(|i| i.get(attr)) {
            None => true,
            Some(AttrValue::N(n)) => number::less_than(n, *limit),
            Some(_) => false,
        },
        Condition::VersionEquals(v) => item
            .and_then(|i| i.get(VERSION))
            .is_some_and(|current| same_value(current, &AttrValue::N(v.to_string()))),
        Condition::OneOf(attr, values) => item
            .and_then(|i| i.get(attr))
            .is_some_and(|current| values.iter().any(|v| same_value(current, v))),
        Condition::And(all) => all.iter().all(|c| holds(c, item)),
    }
}

/// DynamoDB's `=`: same type and value, numbers compared as numbers (`1.50 = 1.5`).
pub fn same_value(a: &AttrValue, b: &AttrValue) -> bool {
    match (a, b) {
        (AttrValue::N(x), AttrValue::N(y)) => match (number::canonical(x), number::canonical(y)) {
            (Ok(x), Ok(y)) => x == y,
            _ => x == y,
        },
        (AttrValue::L(x), AttrValue::L(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (AttrValue::M(x), AttrValue::M(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same_value(vx, vy))
        }
        _ => a == b,
    }
}

/// The item after `update` (already checked by [`update`]) is applied to the current one; like
/// DynamoDB's `UpdateItem`, an absent item starts as just its key. Refuses what DynamoDB refuses: `ADD`
/// to a non-number, a result over the size limit.
pub fn apply(update: &Update, current: Option<Item>) -> StoreResult<Item> {
    let mut item = current.unwrap_or_else(|| {
        Item::from([
            (PK.to_owned(), AttrValue::S(update.key.pk.clone())),
            (SK.to_owned(), AttrValue::S(update.key.sk.clone())),
        ])
    });
    for action in &update.actions {
        match action {
            UpdateAction::Set(attr, value) => {
                item.insert(attr.clone(), value.clone());
            }
            UpdateAction::Remove(attr) => {
                item.remove(attr);
            }
            UpdateAction::Add(attr, delta) => {
                let sum = match item.get(attr) {
                    None => AttrValue::int(*delta),
                    Some(AttrValue::N(n)) => AttrValue::N(number::add(n, *delta)?),
                    Some(_) => {
                        return Err(invalid(format!(
                            "ADD needs a number, but attribute {attr} is not one"
                        )));
                    }
                };
                item.insert(attr.clone(), sum);
            }
        }
    }
    index_keys(&item)?;
    checks::updated_item(&item)?;
    Ok(item)
}

/// DynamoDB's number type: decimal text of up to 38 significant digits, magnitudes from 1E-130 to
/// below 1E+126, stored with leading and trailing zeros trimmed ("Leading and trailing zeroes are
/// trimmed", DynamoDB's data-type reference) and compared by value. Arithmetic is exact.
pub mod number {
    use super::invalid;
    use crate::table::StoreResult;

    const MAX_DIGITS: usize = 38;
    const MIN_MAGNITUDE: i64 = -130;
    const MAX_MAGNITUDE: i64 = 125;

    /// A number as sign, significant digits (no leading or trailing zeros; empty for zero) and the
    /// power of ten of the last digit.
    #[derive(Debug, PartialEq, Eq)]
    struct Decimal {
        negative: bool,
        digits: Vec<u8>,
        exponent: i64,
    }

    fn parse(text: &str) -> StoreResult<Decimal> {
        let not_a_number = || invalid(format!("not a number: {text:?}"));
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => {
                let exponent = &rest[at + 1..];
                let digits = exponent.trim_start_matches(['+', '-']);
                if digits.is_empty()
                    || exponent.len() - digits.len() > 1
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(not_a_number());
                }
                // Any exponent this long is out of range whatever the mantissa.
                let exponent: i64 = exponent.parse().map_err(|_| not_a_number())?;
                (&rest[..at], exponent)
            }
            None => (rest, 0),
        };
        let (int, frac) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(not_a_number());
        }
        let frac_len = i64::try_from(frac.len()).map_err(|_| not_a_number())?;
        let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        let mut exponent = exponent.checked_sub(frac_len).ok_or_else(not_a_number)?;
        let leading = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..leading);
        while digits.last() == Some(&0) {
            digits.pop();
            exponent = exponent.saturating_add(1);
        }
        if digits.is_empty() {
            return Ok(Decimal {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        Ok(Decimal {
            negative,
            digits,
            exponent,
        })
    }

    fn check(d: &Decimal, text: &str) -> StoreResult<()> {
        if d.digits.is_empty() {
            return Ok(());
        }
        if d.digits.len() > MAX_DIGITS {
            return Err(invalid(format!(
                "number {text} has more than {MAX_DIGITS} significant digits"
            )));
        }
        // The power of ten of the leading digit.
        let magnitude = d.exponent.saturating_add(d.digits.len() as i64 - 1);
        if !(MIN_MAGNITUDE..=MAX_MAGNITUDE).contains(&magnitude) {
            return Err(invalid(format!(
                "number {text} is outside DynamoDB's range"
            )));
        }
        Ok(())
    }

    fn render(d: &Decimal) -> String {
        if d.digits.is_empty() {
            return "0".to_owned();
        }
        let digits: String = d.digits.iter().map(|x| char::from(b'0' + x)).collect();
        let sign = if d.negative { "-" } else { "" };
        let len = d.digits.len() as i64;
        if d.exponent >= 0 {
            format!("{sign}{digits}{}", "0".repeat(d.exponent as usize))
        } else if len + d.exponent > 0 {
            let point = (len + d.exponent) as usize;
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        } else {
            let zeros = "0".repeat((-(len + d.exponent)) as usize);
            format!("{sign}0.{zeros}{digits}")
        }
    }

    /// The canonical text of a number DynamoDB accepts; an error for one it refuses.
    pub fn canonical(text: &str) -> StoreResult<String> {
        let d = parse(text)?;
        check(&d, text)?;
        Ok(render(&d))
    }

    /// `text + delta`, exactly, as DynamoDB's `ADD` computes it; an error where DynamoDB's would be out
    /// of range or need more than 38 digits.
    pub fn add(text: &str, delta: i64) -> StoreResult<String> {
        let d = parse(text)?;
        check(&d, text)?;
        if delta == 0 {
            return Ok(render(&d));
        }
        let overflow = || invalid(format!("{text} + {delta} is outside DynamoDB's numbers"));
        // At most 38 digits fit an i128 (10^38 < 2^127).
        let coefficient = d
            .digits
            .iter()
            .try_fold(0i128, |acc, x| {
                acc.checked_mul(10)?.checked_add(i128::from(*x))
            })
            .ok_or_else(overflow)?;
        let coefficient = if d.negative {
            -coefficient
        } else {
            coefficient
        };
        let pow = |e: i64| {
            u32::try_from(e)
                .ok()
                .and_then(|e| 10i128.checked_pow(e))
                .ok_or_else(overflow)
        };
        let (sum, exponent) = if d.exponent >= 0 {
            let whole = coefficient
                .checked_mul(pow(d.exponent)?)
                .ok_or_else(overflow)?;
            (whole.checked_add(i128::from(delta)), 0)
        } else {
            let scaled = i128::from(delta)
                .checked_mul(pow(-d.exponent)?)
                .ok_or_else(overflow)?;
            (coefficient.checked_add(scaled), d.exponent)
        };
        let sum = sum.ok_or_else(overflow)?;
        let result = format!("{sum}e{exponent}");
        canonical(&result).map_err(|_| overflow())
    }

    /// Whether the number `text` is less than `limit`, exactly (DynamoDB's `<` on numbers). Text
    /// that is no number is not less than anything.
    pub fn less_than(text: &str, limit: i64) -> bool {
        match limit.checked_neg().map(|minus| add(text, minus)) {
            Some(Ok(difference)) => difference.starts_with('-'),
            // Beyond an i128's exact range: the magnitudes are far enough apart for floats.
            _ => text.parse::<f64>().is_ok_and(|n| n < limit as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item_of(pairs: &[(&str, AttrValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn n(text: &str) -> AttrValue {
        AttrValue::N(text.into())
    }

    #[test]
    fn conditions_on_an_absent_item_hold_as_in_dynamodb() {
        assert!(holds(&Condition::NotExists, None));
        assert!(!holds(&Condition::Exists, None));
        assert!(!holds(
            &Condition::Equals("a".into(), AttrValue::int(1)),
            None
        ));
        assert!(holds(&Condition::AttrNotExists("a".into()), None));
        assert!(!holds(&Condition::VersionEquals(1), None));
        assert!(holds(&Condition::And(vec![]), None));
        assert!(holds(&Condition::AbsentOrBelow("a".into(), 0), None));
    }

    #[test]
    fn conditions_on_a_present_item_look_at_its_attributes() {
        let current = item_of(&[("version", n("3")), ("st", AttrValue::s("a"))]);
        let i = Some(&current);
        assert!(!holds(&Condition::NotExists, i));
        assert!(holds(&Condition::Exists, i));
        assert!(holds(&Condition::Equals("st".into(), AttrValue::s("a")), i));
        assert!(!holds(
            &Condition::Equals("st".into(), AttrValue::s("b")),
            i
        ));
        assert!(!holds(&Condition::Equals("x".into(), AttrValue::s("a")), i));
        assert!(!holds(&Condition::AttrNotExists("st".into()), i));
        // DynamoDB's `<` between a string and a number is false (moto errors instead, so this is
        // here rather than in the conformance suite).
        assert!(!holds(&Condition::AbsentOrBelow("st".into(), i64::MAX), i));
        assert!(holds(&Condition::AttrNotExists("x".into()), i));
        assert!(holds(&Condition::VersionEquals(3), i));
        assert!(!holds(&Condition::VersionEquals(2), i));
        assert!(!holds(
            &Condition::And(vec![Condition::Exists, Condition::VersionEquals(2)]),
            i
        ));
    }

    #[test]
    fn equality_compares_numbers_by_value_and_never_across_types() {
        assert!(same_value(&n("1.50"), &n("1.5")));
        assert!(same_value(&n("100"), &n("1E2")));
        assert!(!same_value(&n("1"), &AttrValue::s("1")));
        assert!(same_value(
            &AttrValue::L(vec![n("2.0")]),
            &AttrValue::L(vec![n("2")])
        ));
    }

    fn update_of(actions: Vec<UpdateAction>) -> Update {
        Update {
            key: Key::new("p", "s"),
            actions,
            condition: None,
        }
    }

    #[test]
    fn an_update_of_an_absent_item_starts_from_its_key() {
        let after = apply(
            &update_of(vec![UpdateAction::Set("a".into(), AttrValue::s("x"))]),
            None,
        )
        .unwrap();
        assert_eq!(
            after,
            item_of(&[
                ("PK", AttrValue::s("p")),
                ("SK", AttrValue::s("s")),
                ("a", AttrValue::s("x"))
            ])
        );
    }

    #[test]
    fn add_treats_an_absent_number_as_zero_and_refuses_strings() {
        let update = update_of(vec![UpdateAction::Add("n".into(), 5)]);
        assert_eq!(apply(&update, None).unwrap()["n"], AttrValue::int(5));
        let current = item_of(&[("n", AttrValue::s("x"))]);
        assert!(matches!(
            apply(&update, Some(current)),
            Err(StoreError::InvalidRequest(_))
        ));
    }

    #[test]
    fn remove_of_an_absent_attribute_changes_nothing() {
        let current = item_of(&[("PK", AttrValue::s("p")), ("SK", AttrValue::s("s"))]);
        let update = update_of(vec![UpdateAction::Remove("gone".into())]);
        assert_eq!(apply(&update, Some(current.clone())).unwrap(), current);
    }

    #[test]
    fn an_update_that_names_one_attribute_twice_is_refused() {
        let update = update_of(vec![
            UpdateAction::Set("a".into(), AttrValue::s("x")),
            UpdateAction::Remove("a".into()),
        ]);
        assert!(matches!(
            super::update(update),
            Err(StoreError::InvalidRequest(_))
        ));
    }

    #[test]
    fn index_keys_must_be_non_empty_strings() {
        let base = || item_of(&[("PK", AttrValue::s("p")), ("SK", AttrValue::s("s"))]);
        let mut numeric = base();
        numeric.insert("GSI1SK".into(), n("1"));
        assert!(item(numeric).is_err());
        let mut empty = base();
        empty.insert("GSI1PK".into(), AttrValue::s(""));
        assert!(item(empty).is_err());
        let mut sparse = base();
        sparse.insert("GSI1PK".into(), AttrValue::s("x"));
        assert!(item(sparse).is_ok());
        let set_number = update_of(vec![UpdateAction::Set("GSI1PK".into(), n("1"))]);
        assert!(super::update(set_number).is_err());
        let add = update_of(vec![UpdateAction::Add("GSI1SK".into(), 1)]);
        assert!(super::update(add).is_err());
    }

    #[test]
    fn keys_must_be_non_empty_and_within_dynamodb_limits() {
        assert!(key(&Key::new("p", "s")).is_ok());
        assert!(key(&Key::new("", "s")).is_err());
        assert!(key(&Key::new("p", "")).is_err());
        assert!(key(&Key::new("p".repeat(2048), "s".repeat(1024))).is_ok());
        assert!(key(&Key::new("p".repeat(2049), "s")).is_err());
        assert!(key(&Key::new("p", "s".repeat(1025))).is_err());
    }

    #[test]
    fn queries_need_a_positive_limit_and_ordered_non_empty_bounds() {
        assert!(query(&Query::partition("p").limit(1)).is_ok());
        assert!(query(&Query::partition("p").limit(0)).is_err());
        assert!(query(&Query::partition("")).is_err());
        let between = |a: &str, b: &str| {
            Query::partition("p").sort_key(SortKeyCondition::Between(a.into(), b.into()))
        };
        assert!(query(&between("a", "b")).is_ok());
        assert!(query(&between("a", "a")).is_ok());
        assert!(query(&between("b", "a")).is_err());
        assert!(
            query(&Query::partition("p").sort_key(SortKeyCondition::BeginsWith(String::new())))
                .is_err()
        );
    }

    #[test]
    fn numbers_are_stored_with_leading_and_trailing_zeros_trimmed() {
        for (text, canonical) in [
            ("0", "0"),
            ("-0", "0"),
            ("0.000", "0"),
            ("007", "7"),
            ("+7", "7"),
            ("1.50", "1.5"),
            ("-1.50", "-1.5"),
            ("100", "100"),
            ("1E2", "100"),
            ("1.5e-3", "0.0015"),
            (".5", "0.5"),
            ("5.", "5"),
            ("12345.678e2", "1234567.8"),
        ] {
            assert_eq!(number::canonical(text).unwrap(), canonical, "{text}");
        }
    }

    #[test]
    fn numbers_dynamodb_refuses_are_invalid_requests() {
        for text in [
            "",
            "-",
            "abc",
            "1.2.3",
            "1e",
            "e5",
            "1e+-2",
            "0x10",
            " 1",
            "1e999999999999999999999",
            "1e126",
            "1e-131",
            "123456789012345678901234567890123456789",
        ] {
            assert!(
                matches!(number::canonical(text), Err(StoreError::InvalidRequest(_))),
                "{text:?}"
            );
        }
        assert!(number::canonical("9.9999999999999999999999999999999999999E+125").is_ok());
        assert!(number::canonical("1E-130").is_ok());
    }

    #[test]
    fn add_is_exact_decimal_arithmetic() {
        assert_eq!(number::add("1.5", 1).unwrap(), "2.5");
        assert_eq!(number::add("0.1", -1).unwrap(), "-0.9");
        assert_eq!(number::add("-3", 3).unwrap(), "0");
        assert_eq!(number::add("1E2", 1).unwrap(), "101");
        assert_eq!(
            number::add("9223372036854775807", 1).unwrap(),
            "9223372036854775808"
        );
        assert_eq!(
            number::add("1E125", 0).unwrap(),
            number::canonical("1E125").unwrap()
        );
        assert!(number::add("1E125", 1).is_err(), "126 significant digits");
        assert!(number::add("1E-100", 1).is_err(), "101 significant digits");
        assert!(number::add("x", 1).is_err());
    }
}
