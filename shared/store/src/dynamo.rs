//! The production backend: DynamoDB through aws-sdk-dynamodb.
//!
//! It gives the same answers as the SQLite backend (the conformance suite runs both): requests are
//! checked by [`crate::checks`] and [`crate::eval`] before anything is sent, so both refuse the same
//! ones with the same error; conditions and updates become expressions with `#n` / `:v` aliases
//! (no attribute name or value is ever spliced into an expression); table reads are strongly
//! consistent; a query asks for one item more than its limit (following DynamoDB's 1 MB pages) so
//! that `next` is present only when more items match; and DynamoDB's error kinds become
//! `StoreError`s.
//!
//! Where moto (the emulator the tests run against) is laxer than DynamoDB, this backend does the
//! strict thing itself, so that it behaves like DynamoDB on both:
//! - it sends numbers in DynamoDB's canonical form (moto stores `1.50` as sent; DynamoDB trims it to
//!   `1.5`);
//! - it refuses non-string index keys (moto indexes them; DynamoDB refuses the write);
//! - it guards each `ADD` of an update with a type check (moto applies the actions before an `ADD` to
//!   a non-number fails and keeps them; DynamoDB changes nothing).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as Av, BillingMode, CancellationReason, ConditionCheck,
    Delete, GlobalSecondaryIndex, KeySchemaElement, KeyType, KeysAndAttributes, Projection,
    ProjectionType, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem, Update as DynamoUpdate,
};

use crate::checks;
use crate::cursor;
use crate::eval;
use crate::item::{AttrValue, Item, MAX_ITEM_BYTES};
use crate::table::{
    Condition, Index, Key, PK, Page, Query, SK, SortKeyCondition, StoreError, StoreResult, TTL,
    Table, TxAction, Update, UpdateAction, VERSION,
};

/// A DynamoDB table with Lectern's key schema (see [`create_table`]).
pub struct DynamoTable {
    client: Client,
    table: String,
}

impl DynamoTable {
    /// The table named `table` (from config), reached through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoTable {
            client,
            table: table.into(),
        }
    }
}

type AvMap = HashMap<String, Av>;

fn to_av(value: &AttrValue) -> Av {
    match value {
        AttrValue::S(s) => Av::S(s.clone()),
        AttrValue::N(n) => Av::N(n.clone()),
        AttrValue::Bool(b) => Av::Bool(*b),
        AttrValue::Null => Av::Null(true),
        AttrValue::L(l) => Av::L(l.iter().map(to_av).collect()),
        AttrValue::M(m) => Av::M(m.iter().map(|(k, v)| (k.clone(), to_av(v))).collect()),
    }
}

fn from_av(value: Av) -> StoreResult<AttrValue> {
    Ok(match value {
        Av::S(s) => AttrValue::S(s),
        Av::N(n) => AttrValue::N(n),
        Av::Bool(b) => AttrValue::Bool(b),
        Av::Null(_) => AttrValue::Null,
        Av::L(l) => AttrValue::L(l.into_iter().map(from_av).collect::<StoreResult<_>>()?),
        Av::M(m) => AttrValue::M(
            m.into_iter()
                .map(|(k, v)| Ok((k, from_av(v)?)))
                .collect::<StoreResult<_>>()?,
        ),
        // Sets and binaries: Lectern never writes them, so one in the table is not ours.
        other => {
            return Err(StoreError::Corrupt(format!(
                "unsupported attribute type {other:?}"
            )));
        }
    })
}

fn to_map(item: &Item) -> AvMap {
    item.iter().map(|(k, v)| (k.clone(), to_av(v))).collect()
}

fn from_map(map: AvMap) -> StoreResult<Item> {
    map.into_iter().map(|(k, v)| Ok((k, from_av(v)?))).collect()
}

fn key_map(key: &Key) -> AvMap {
    HashMap::from([
        (PK.to_owned(), Av::S(key.pk.clone())),
        (SK.to_owned(), Av::S(key.sk.clone())),
    ])
}

/// The aliases of one request's expressions: `#n0`… for names, `:v0`… for values.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, Av>,
}

impl Expr {
    fn name(&mut self, attr: &str) -> String {
        if let Some((alias, _)) = self.names.iter().find(|(_, a)| a.as_str() == attr) {
            return alias.clone();
        }
        let alias = format!("#n{}", self.names.len());
        self.names.insert(alias.clone(), attr.to_owned());
        alias
    }

    fn value(&mut self, value: Av) -> String {
        let alias = format!(":v{}", self.values.len());
        self.values.insert(alias.clone(), value);
        alias
    }

    fn condition(&mut self, condition: &Condition) -> String {
        match condition {
            Condition::NotExists => format!("attribute_not_exists({})", self.name(PK)),
            Condition::Exists => format!("attribute_exists({})", self.name(PK)),
            Condition::Equals(attr, value) => {
                format!("{} = {}", self.name(attr), self.value(to_av(value)))
            }
            Condition::AttrNotExists(attr) => format!("attribute_not_exists({})", self.name(attr)),
            Condition::AbsentOrBelow(attr, limit) => {
                let name = self.name(attr);
                let limit = self.value(Av::N(limit.to_string()));
                // No parentheses of its own: DynamoDB refuses redundant ones, and `And` adds them.
                format!("attribute_not_exists({name}) OR {name} < {limit}")
            }
            Condition::OneOf(attr, values) => {
                let name = self.name(attr);
                let values: Vec<String> = values.iter().map(|v| self.value(to_av(v))).collect();
                format!("{name} IN ({})", values.join(", "))
            }
            Condition::VersionEquals(v) => format!(
                "{} = {}",
                self.name(VERSION),
                self.value(Av::N(v.to_string()))
            ),
            // An empty conjunction holds; DynamoDB has no `true`, so say it with a tautology.
            Condition::And(all) if all.is_empty() => {
                let pk = self.name(PK);
                format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
            }
            Condition::And(all) => all
                .iter()
                .map(|c| format!("({})", self.condition(c)))
                .collect::<Vec<_>>()
                .join(" AND "),
        }
    }

    fn update(&mut self, actions: &[UpdateAction]) -> String {
        let (mut set, mut add, mut remove) = (Vec::new(), Vec::new(), Vec::new());
        for action in actions {
            match action {
                UpdateAction::Set(attr, value) => set.push(format!(
                    "{} = {}",
                    self.name(attr),
                    self.value(to_av(value))
                )),
                UpdateAction::Add(attr, delta) => add.push(format!(
                    "{} {}",
                    self.name(attr),
                    self.value(Av::N(delta.to_string()))
                )),
                UpdateAction::Remove(attr) => remove.push(self.name(attr)),
            }
        }
        let mut clauses = Vec::new();
        for (verb, parts) in [("SET", set), ("ADD", add), ("REMOVE", remove)] {
            if !parts.is_empty() {
                clauses.push(format!("{verb} {}", parts.join(", ")));
            }
        }
        clauses.join(" ")
    }

    fn sort_key(&mut self, attr: &str, condition: &SortKeyCondition) -> String {
        let name = self.name(attr);
        let mut v = |s: &str| self.value(Av::S(s.to_owned()));
        match condition {
            SortKeyCondition::Equals(s) => format!("{name} = {}", v(s)),
            SortKeyCondition::BeginsWith(s) => format!("begins_with({name}, {})", v(s)),
            SortKeyCondition::Between(low, high) => {
                let (low, high) = (v(low), v(high));
                format!("{name} BETWEEN {low} AND {high}")
            }
            SortKeyCondition::LessThan(s) => format!("{name} < {}", v(s)),
            SortKeyCondition::LessOrEqual(s) => format!("{name} <= {}", v(s)),
            SortKeyCondition::GreaterThan(s) => format!("{name} > {}", v(s)),
            SortKeyCondition::GreaterOrEqual(s) => format!("{name} >= {}", v(s)),
        }
    }

    /// The condition of an update: the caller's, and for each attribute the update adds to, that it
    /// is absent or a number.
    fn guarded_update_condition(&mut self, update: &Update, adds: &[&str]) -> Option<String> {
        let mut parts: Vec<String> = update.condition.iter().map(|c| self.condition(c)).collect();
        for attr in adds {
            let (name, number) = (self.name(attr), self.value(Av::S("N".into())));
            parts.push(format!(
                "attribute_not_exists({name}) OR attribute_type({name}, {number})"
            ));
        }
        (!parts.is_empty()).then(|| {
            parts
                .iter()
                .map(|p| format!("({p})"))
                .collect::<Vec<_>>()
                .join(" AND ")
        })
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<AvMap> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// The attributes an update adds to.
fn adds(actions: &[UpdateAction]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|a| match a {
            UpdateAction::Add(attr, _) => Some(attr.as_str()),
            _ => None,
        })
        .collect()
}

/// Why a guarded update's condition failed, judged on the item as it was (`old`, returned with the
/// failure): the caller's condition first, as DynamoDB evaluates it before applying anything; else
/// an `ADD` to an attribute that is not a number, which DynamoDB refuses as a bad request.
fn update_refusal(update: &Update, adds: &[&str], old: Option<&Item>) -> StoreError {
    let condition_holds = update
        .condition
        .as_ref()
        .is_none_or(|c| eval::holds(c, old));
    let adds_to_a_non_number = old.is_some_and(|item| {
        adds.iter()
            .any(|a| item.get(*a).is_some_and(|v| !matches!(v, AttrValue::N(_))))
    });
    if condition_holds && adds_to_a_non_number {
        StoreError::InvalidRequest("ADD needs a number, and the attribute is not one".into())
    } else {
        StoreError::ConditionFailed
    }
}

/// What DynamoDB said that is about the request's data rather than the service: an item grown over
/// the size limit, or an `ADD` to something that is not a number. `eval` refuses everything else
/// DynamoDB would before the request is sent; these two depend on the stored item.
fn data_refusal(code: Option<&str>, message: Option<&str>) -> Option<StoreError> {
    if !matches!(code, Some("ValidationException" | "ValidationError")) {
        return None;
    }
    let message = message.unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    if lower.contains("item size") {
        // DynamoDB does not say by how much; the item is at least one byte over.
        Some(StoreError::ItemTooLarge {
            size: MAX_ITEM_BYTES + 1,
        })
    } else if lower.contains("operand") {
        Some(StoreError::InvalidRequest(message.to_owned()))
    } else {
        None
    }
}

/// Maps a failed request: a failed condition, a refusal of the data, or else the backend being
/// unavailable (throttled after the SDK's retries, unreachable, or a request this code got wrong).
fn failure<E>(
    operation: &'static str,
    error: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    is_condition_failure: impl Fn(&E) -> bool,
) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    if error.as_service_error().is_some_and(is_condition_failure) {
        return StoreError::ConditionFailed;
    }
    if let Some(refusal) = data_refusal(error.code(), error.message()) {
        return refusal;
    }
    StoreError::Unavailable(anyhow::Error::new(error).context(format!("DynamoDB {operation}")))
}

/// A request with no condition to fail.
fn unavailable<E>(
    operation: &'static str,
) -> impl FnOnce(SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    move |error| failure(operation, error, |_| false)
}

/// A builder refused a request this code built: a bug, reported as the store failing.
fn unbuildable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(anyhow::Error::new(e).context("building a DynamoDB request"))
}

/// Maps a cancelled transaction by its per-action reasons: failed conditions (by index) first, as they
/// are the caller's domain outcome; then refusals of the data; then conflicts with other writes.
fn cancelled(reasons: &[CancellationReason]) -> Option<StoreError> {
    let failed: Vec<usize> = reasons
        .iter()
        .enumerate()
        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
        .map(|(i, _)| i)
        .collect();
    if !failed.is_empty() {
        return Some(StoreError::TransactionCanceled { failed });
    }
    if let Some(refusal) = reasons
        .iter()
        .find_map(|r| data_refusal(r.code(), r.message()))
    {
        return Some(refusal);
    }
    if reasons
        .iter()
        .any(|r| r.code() == Some("TransactionConflict"))
    {
        return Some(StoreError::TransactionConflict);
    }
    None
}

/// The transaction item of one action. (Updates carry no `ADD` guard here: moto rolls a failed
/// transaction back, and DynamoDB reports the `ADD` as a validation reason, mapped by `cancelled`.)
fn tx_item(table: &str, action: &TxAction) -> StoreResult<TransactWriteItem> {
    let mut expr = Expr::default();
    let item = match action {
        TxAction::Put { item, condition } => {
            let condition = condition.as_ref().map(|c| expr.condition(c));
            TransactWriteItem::builder().put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(to_map(item)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(unbuildable)?,
            )
        }
        TxAction::Update(update) => {
            let update_expr = expr.update(&update.actions);
            let condition = update.condition.as_ref().map(|c| expr.condition(c));
            TransactWriteItem::builder().update(
                DynamoUpdate::builder()
                    .table_name(table)
                    .set_key(Some(key_map(&update.key)))
                    .update_expression(update_expr)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(unbuildable)?,
            )
        }
        TxAction::Delete { key, condition } => {
            let condition = condition.as_ref().map(|c| expr.condition(c));
            TransactWriteItem::builder().delete(
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(key_map(key)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(unbuildable)?,
            )
        }
        TxAction::Check { key, condition } => {
            let condition = expr.condition(condition);
            TransactWriteItem::builder().condition_check(
                ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key_map(key)))
                    .condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(unbuildable)?,
            )
        }
    };
    Ok(item.build())
}

/// How often a batch get asks again for the keys DynamoDB left unprocessed (throttling), and the
/// first pause between asks (doubled each time: 25 ms … 3.2 s, about 6 s in all).
const BATCH_GET_RETRIES: u32 = 8;
const BATCH_GET_FIRST_PAUSE: Duration = Duration::from_millis(25);

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        eval::key(key)?;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable("GetItem"))?;
        out.item.map(from_map).transpose()
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        checks::batch_get(keys)?;
        keys.iter().try_for_each(eval::key)?;
        // DynamoDB refuses duplicate keys in one request: ask for each once, answer for each asked.
        let mut unique: Vec<&Key> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let mut found: HashMap<Key, Item> = HashMap::new();
        let mut pending: Vec<AvMap> = unique.into_iter().map(key_map).collect();
        let mut pause = BATCH_GET_FIRST_PAUSE;
        let mut retries = 0;
        // An empty batch asks nothing (DynamoDB would refuse an empty request).
        while !pending.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(unbuildable)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(unavailable("BatchGetItem"))?;
            let responses = out
                .responses
                .unwrap_or_default()
                .remove(&self.table)
                .unwrap_or_default();
            for map in responses {
                let item = from_map(map)?;
                let key = Key::of(&item)
                    .ok_or_else(|| StoreError::Corrupt("an item without PK/SK".into()))?;
                found.insert(key, item);
            }
            pending = out
                .unprocessed_keys
                .unwrap_or_default()
                .remove(&self.table)
                .map(|k| k.keys)
                .unwrap_or_default();
            if !pending.is_empty() {
                retries += 1;
                if retries > BATCH_GET_RETRIES {
                    return Err(StoreError::Unavailable(anyhow::anyhow!(
                        "DynamoDB BatchGetItem: {} keys still unprocessed after {BATCH_GET_RETRIES} retries",
                        pending.len()
                    )));
                }
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        checks::item(&item)?;
        let (item, condition) = eval::put(item, condition)?;
        let mut expr = Expr::default();
        let condition = condition.as_ref().map(|c| expr.condition(c));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_map(&item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map_err(|e| failure("PutItem", e, |s| s.is_conditional_check_failed_exception()))?;
        Ok(())
    }

    async fn update(&self, update: Update) -> StoreResult<Item> {
        checks::update(&update)?;
        let update = eval::update(update)?;
        let adds = adds(&update.actions);
        let mut expr = Expr::default();
        let update_expr = expr.update(&update.actions);
        let condition = expr.guarded_update_condition(&update, &adds);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(&update.key)))
            .update_expression(update_expr)
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            // The item as it was comes back with a failed condition, to tell why it failed.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(error) => {
                if let Some(UpdateItemError::ConditionalCheckFailedException(e)) =
                    error.as_service_error()
                {
                    let old = e.item().cloned().map(from_map).transpose()?;
                    return Err(update_refusal(&update, &adds, old.as_ref()));
                }
                return Err(failure("UpdateItem", error, |_| false));
            }
        };
        // DynamoDB enforced the size limit on the result itself ("Item size to update has exceeded",
        // mapped above). `checks::updated_item` is not applied here: the write has happened, and an
        // error now would report a committed write as failed.
        from_map(out.attributes.unwrap_or_default())
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<Option<Item>> {
        let condition = eval::keyed(key, condition)?;
        let mut expr = Expr::default();
        let condition = condition.as_ref().map(|c| expr.condition(c));
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| {
                failure("DeleteItem", e, |s| {
                    s.is_conditional_check_failed_exception()
                })
            })?;
        out.attributes
            .filter(|a| !a.is_empty())
            .map(from_map)
            .transpose()
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        eval::query(query)?;
        let start = cursor::decode(query)?;
        let (pk_attr, sk_attr) = match query.index {
            None => (PK, SK),
            Some(index) => (index.pk_attr(), index.sk_attr()),
        };
        let mut expr = Expr::default();
        let mut key_condition = format!(
            "{} = {}",
            expr.name(pk_attr),
            expr.value(Av::S(query.pk.clone()))
        );
        if let Some(condition) = &query.sk {
            key_condition += &format!(" AND {}", expr.sort_key(sk_attr, condition));
        }
        // An index query resumes after the index key and the table key of the last item.
        let mut exclusive_start = start.map(|s| {
            let mut map = key_map(&s.key);
            if let (Some(index), Some((ipk, isk))) = (query.index, s.index_key) {
                map.insert(index.pk_attr().to_owned(), Av::S(ipk));
                map.insert(index.sk_attr().to_owned(), Av::S(isk));
            }
            map
        });
        // One more than the limit tells whether a next page exists; with no limit, read every page.
        let wanted = query.limit.map(|l| l.saturating_add(1));
        let mut items = Vec::new();
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&key_condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .scan_index_forward(query.forward)
                .set_exclusive_start_key(exclusive_start.take());
            request = match query.index {
                // Index reads cannot be strongly consistent.
                Some(index) => request.index_name(index.name()),
                None => request.consistent_read(true),
            };
            if let Some(wanted) = wanted {
                let missing = wanted.saturating_sub(items.len());
                request = request.limit(i32::try_from(missing).unwrap_or(i32::MAX));
            }
            let out = request.send().await.map_err(unavailable("Query"))?;
            for map in out.items.unwrap_or_default() {
                items.push(from_map(map)?);
            }
            // DynamoDB stops a page at 1 MB: go on from where it stopped until enough are read.
            match out.last_evaluated_key {
                Some(last) if !last.is_empty() && wanted.is_none_or(|w| items.len() < w) => {
                    exclusive_start = Some(last);
                }
                _ => break,
            }
        }
        cursor::page(items, query)
    }

    async fn transact_write(&self, actions: Vec<TxAction>) -> StoreResult<()> {
        checks::transaction(&actions)?;
        let actions = eval::transaction(actions)?;
        let items = actions
            .iter()
            .map(|a| tx_item(&self.table, a))
            .collect::<StoreResult<Vec<_>>>()?;
        let error = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(e)) =
            error.as_service_error()
            && let Some(mapped) = cancelled(e.cancellation_reasons())
        {
            return Err(mapped);
        }
        Err(unavailable("TransactWriteItems")(error))
    }
}

/// Creates a table with Lectern's key schema (PK/SK, GSI1 projecting all attributes, TTL on `ttl`),
/// billed per request, and waits until it is active; a table that already exists is left as it is.
/// For tests and emulators: in AWS the SAM template creates the table.
pub async fn create_table(client: &Client, name: &str) -> StoreResult<()> {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(unbuildable)
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(unbuildable)
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PK)?)
        .attribute_definitions(attr(SK)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?);
    for index in Index::ALL {
        request = request
            .attribute_definitions(attr(index.pk_attr())?)
            .attribute_definitions(attr(index.sk_attr())?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(index.name())
                    .key_schema(key(index.pk_attr(), KeyType::Hash)?)
                    .key_schema(key(index.sk_attr(), KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(unbuildable)?,
            );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            return Ok(());
        }
        Err(e) => return Err(unavailable("CreateTable")(e)),
    }
    // TTL can only be switched on once the table is active (at once on an emulator, seconds in AWS).
    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(Duration::from_secs(300))
        .await
        .with_context(|| format!("waiting for table {name} to become active"))
        .map_err(StoreError::Unavailable)?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL)
                .enabled(true)
                .build()
                .map_err(unbuildable)?,
        )
        .send()
        .await
        .map_err(unavailable("UpdateTimeToLive"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_use_aliases_for_every_name_and_value() {
        let mut expr = Expr::default();
        let text = expr.condition(&Condition::And(vec![
            Condition::NotExists,
            Condition::Equals("status".into(), AttrValue::s("a")),
            Condition::VersionEquals(3),
            Condition::AttrNotExists("PK".into()),
        ]));
        assert_eq!(
            text,
            "(attribute_not_exists(#n0)) AND (#n1 = :v0) AND (#n2 = :v1) AND (attribute_not_exists(#n0))"
        );
        assert_eq!(expr.names["#n1"], "status");
        assert_eq!(expr.names["#n2"], "version");
        assert_eq!(expr.values[":v1"], Av::N("3".into()));
    }

    #[test]
    fn an_update_groups_its_actions_into_set_add_and_remove_clauses() {
        let mut expr = Expr::default();
        let text = expr.update(&[
            UpdateAction::Add("n".into(), -2),
            UpdateAction::Set("a".into(), AttrValue::Bool(true)),
            UpdateAction::Remove("gone".into()),
            UpdateAction::Set("b".into(), AttrValue::Null),
        ]);
        assert_eq!(text, "SET #n1 = :v1, #n3 = :v2 ADD #n0 :v0 REMOVE #n2");
        assert_eq!(expr.values[":v0"], Av::N("-2".into()));
    }

    fn update_of(actions: Vec<UpdateAction>, condition: Option<Condition>) -> Update {
        Update {
            key: Key::new("p", "s"),
            actions,
            condition,
        }
    }

    #[test]
    fn every_add_is_guarded_by_a_type_check_beside_the_callers_condition() {
        let update = update_of(
            vec![UpdateAction::Add("n".into(), 1)],
            Some(Condition::Exists),
        );
        let mut expr = Expr::default();
        expr.update(&update.actions);
        let condition = expr.guarded_update_condition(&update, &adds(&update.actions));
        assert_eq!(
            condition.as_deref(),
            Some(
                "(attribute_exists(#n1)) AND (attribute_not_exists(#n0) OR attribute_type(#n0, :v1))"
            )
        );
        assert_eq!(expr.values[":v1"], Av::S("N".into()));
        let plain = update_of(vec![UpdateAction::Remove("x".into())], None);
        assert_eq!(Expr::default().guarded_update_condition(&plain, &[]), None);
    }

    #[test]
    fn a_failed_guarded_update_is_told_apart_by_the_old_item() {
        let update = update_of(
            vec![UpdateAction::Add("n".into(), 1)],
            Some(Condition::VersionEquals(1)),
        );
        let item = |version: i64, n: AttrValue| {
            Item::from([
                ("version".to_string(), AttrValue::int(version)),
                ("n".to_string(), n),
            ])
        };
        let stale = item(2, AttrValue::s("x"));
        assert_matches_condition_failed(update_refusal(&update, &["n"], Some(&stale)));
        let string = item(1, AttrValue::s("x"));
        assert!(matches!(
            update_refusal(&update, &["n"], Some(&string)),
            StoreError::InvalidRequest(_)
        ));
        assert_matches_condition_failed(update_refusal(&update, &["n"], None));
    }

    fn assert_matches_condition_failed(error: StoreError) {
        assert!(matches!(error, StoreError::ConditionFailed), "{error:?}");
    }

    #[test]
    fn sort_key_conditions_become_key_condition_expressions() {
        let mut expr = Expr::default();
        assert_eq!(
            expr.sort_key("SK", &SortKeyCondition::Between("a".into(), "b".into())),
            "#n0 BETWEEN :v0 AND :v1"
        );
        assert_eq!(
            expr.sort_key("SK", &SortKeyCondition::BeginsWith("x".into())),
            "begins_with(#n0, :v2)"
        );
    }

    fn reason(code: &str, message: Option<&str>) -> CancellationReason {
        CancellationReason::builder()
            .code(code)
            .set_message(message.map(str::to_owned))
            .build()
    }

    #[test]
    fn a_cancelled_transaction_names_every_action_whose_condition_failed() {
        let reasons = [
            reason("None", None),
            reason(
                "ConditionalCheckFailed",
                Some("The conditional request failed"),
            ),
            reason("TransactionConflict", None),
            reason("ConditionalCheckFailed", None),
        ];
        assert!(matches!(
            cancelled(&reasons),
            Some(StoreError::TransactionCanceled { failed }) if failed == [1, 3]
        ));
    }

    #[test]
    fn a_conflict_without_failed_conditions_is_a_transaction_conflict() {
        let reasons = [reason("None", None), reason("TransactionConflict", None)];
        assert!(matches!(
            cancelled(&reasons),
            Some(StoreError::TransactionConflict)
        ));
        assert!(cancelled(&[reason("ThrottlingError", None)]).is_none());
    }

    #[test]
    fn validation_errors_about_the_data_become_store_errors() {
        let size = reason(
            "ValidationError",
            Some("Item size to update has exceeded the maximum allowed size"),
        );
        assert!(matches!(
            cancelled(&[size]),
            Some(StoreError::ItemTooLarge { .. })
        ));
        assert!(matches!(
            data_refusal(
                Some("ValidationException"),
                Some("An operand in the update expression has an incorrect data type")
            ),
            Some(StoreError::InvalidRequest(_))
        ));
        assert!(data_refusal(Some("ValidationException"), Some("something else")).is_none());
        assert!(data_refusal(Some("ThrottlingException"), Some("item size")).is_none());
    }

    #[test]
    fn attribute_values_survive_the_sdk_types() {
        let value = AttrValue::M(
            [
                ("s".to_string(), AttrValue::s("é")),
                ("n".to_string(), AttrValue::N("-1.5".into())),
                (
                    "l".to_string(),
                    AttrValue::L(vec![AttrValue::Bool(false), AttrValue::Null]),
                ),
            ]
            .into(),
        );
        assert_eq!(from_av(to_av(&value)).unwrap(), value);
        assert!(from_av(Av::Ss(vec!["x".into()])).is_err());
    }
}
