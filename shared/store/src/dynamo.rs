//! The production backend: DynamoDB through aws-sdk-dynamodb.
//!
//! It gives the same answers as the SQLite backend (the conformance suite runs both): conditions and
//! updates become expressions with `#name` / `:value` aliases, table reads are strongly
//! consistent, a query asks for one item more than its limit (following DynamoDB's 1 MB pages) so that
//! `next` is present only when more items match, and DynamoDB's error kinds become `StoreError`s.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as Av, BillingMode, ConditionCheck, Delete,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType,
    Put, ReturnValue, ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem,
    Update as DynamoUpdate,
};

use crate::checks;
use crate::cursor;
use crate::item::{AttrValue, Item};
use crate::table::{
    Condition, Index, Key, PK, Page, Query, SK, SortKeyCondition, StoreError, StoreResult, TTL,
    Table, TxAction, Update, UpdateAction, VERSION,
};

/// A DynamoDB table with Lectern's key schema.
pub struct DynamoTable {
    client: Client,
    table: String,
}

impl DynamoTable {
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

/// Aliases of one expression set.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, Av>,
}

impl Expr {
    fn name(&mut self, attr: &str) -> String {
        let alias = format!("#n{}", self.names.len());
        if let Some((p, _)) = self.names.iter().find(|(_, a)| a.as_str() == attr) {
            return p.clone();
        }
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
            Condition::VersionEquals(v) => format!(
                "{} = {}",
                self.name(VERSION),
                self.value(Av::N(v.to_string()))
            ),
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

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<AvMap> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn sort_key_expr(expr: &mut Expr, attr: &str, condition: &SortKeyCondition) -> String {
    let name = expr.name(attr);
    let mut v = |s: &str| expr.value(Av::S(s.to_owned()));
    match condition {
        SortKeyCondition::Equals(s) => format!("{name} = {}", v(s)),
        SortKeyCondition::BeginsWith(s) => format!("begins_with({name}, {})", v(s)),
        SortKeyCondition::Between(a, b) => {
            let (a, b) = (v(a), v(b));
            format!("{name} BETWEEN {a} AND {b}")
        }
        SortKeyCondition::LessThan(s) => format!("{name} < {}", v(s)),
        SortKeyCondition::LessOrEqual(s) => format!("{name} <= {}", v(s)),
        SortKeyCondition::GreaterThan(s) => format!("{name} > {}", v(s)),
        SortKeyCondition::GreaterOrEqual(s) => format!("{name} >= {}", v(s)),
    }
}

/// Any failure not explained by the data: the backend is unavailable (logged by the caller's edge).
fn unavailable<E>(error: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    if error.code() == Some("ValidationException")
        && error
            .message()
            .is_some_and(|m| m.to_ascii_lowercase().contains("item size"))
    {
        return StoreError::ItemTooLarge { size: 0 };
    }
    StoreError::Unavailable(anyhow::Error::new(error).context("DynamoDB request failed"))
}

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::InvalidRequest(e.to_string())
}

/// The transaction item of one action.
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
                    .map_err(invalid)?,
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
                    .map_err(invalid)?,
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
                    .map_err(invalid)?,
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
                    .map_err(invalid)?,
            )
        }
    };
    Ok(item.build())
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item.map(from_map).transpose()
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        checks::batch_get(keys)?;
        // DynamoDB refuses duplicate keys in one request; ask for each once, answer for each asked.
        let mut unique: Vec<&Key> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let mut found: HashMap<Key, Item> = HashMap::new();
        let mut pending: Vec<AvMap> = unique.into_iter().map(key_map).collect();
        let mut attempt = 0u32;
        while !pending.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(invalid)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(unavailable)?;
            for map in out
                .responses
                .unwrap_or_default()
                .remove(&self.table)
                .unwrap_or_default()
            {
                let item = from_map(map)?;
                if let Some(key) = Key::of(&item) {
                    found.insert(key, item);
                }
            }
            pending = out
                .unprocessed_keys
                .unwrap_or_default()
                .remove(&self.table)
                .map(|k| k.keys)
                .unwrap_or_default();
            if !pending.is_empty() {
                attempt += 1;
                if attempt > 8 {
                    return Err(StoreError::Unavailable(anyhow::anyhow!(
                        "batch get: keys left unprocessed after retries"
                    )));
                }
                tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
            }
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        checks::item(&item)?;
        let mut expr = Expr::default();
        let condition = condition.as_ref().map(|c| expr.condition(c));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_map(&item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::ConditionFailed)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn update(&self, update: Update) -> StoreResult<Item> {
        checks::update(&update)?;
        let mut expr = Expr::default();
        let update_expr = expr.update(&update.actions);
        let condition = update.condition.as_ref().map(|c| expr.condition(c));
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
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = from_map(out.attributes.unwrap_or_default())?;
                checks::updated_item(&item)?;
                Ok(item)
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::ConditionFailed)
            }
            Err(e)
                if e.code() == Some("ValidationException")
                    && e.message().is_some_and(|m| m.contains("operand type")) =>
            {
                Err(StoreError::InvalidRequest(
                    "cannot add to a non-number attribute".into(),
                ))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<Option<Item>> {
        let mut expr = Expr::default();
        let condition = condition.as_ref().map(|c| expr.condition(c));
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => out
                .attributes
                .filter(|a| !a.is_empty())
                .map(from_map)
                .transpose(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::ConditionFailed)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
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
            key_condition = format!(
                "{key_condition} AND {}",
                sort_key_expr(&mut expr, sk_attr, condition)
            );
        }
        let mut exclusive_start = start.map(|s| {
            let mut map = key_map(&s.key);
            if let (Some(index), Some((ipk, isk))) = (query.index, s.index_key) {
                map.insert(index.pk_attr().to_owned(), Av::S(ipk));
                map.insert(index.sk_attr().to_owned(), Av::S(isk));
            }
            map
        });
        let wanted = query.limit.map(|l| l + 1);
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
                Some(index) => request.index_name(index.name()),
                None => request.consistent_read(true),
            };
            if let Some(wanted) = wanted {
                request = request.limit(i32::try_from(wanted - items.len()).unwrap_or(i32::MAX));
            }
            let out = request.send().await.map_err(unavailable)?;
            for map in out.items.unwrap_or_default() {
                items.push(from_map(map)?);
            }
            match out.last_evaluated_key {
                Some(last) if !last.is_empty() && wanted.is_none_or(|w| items.len() < w) => {
                    exclusive_start = Some(last)
                }
                _ => break,
            }
        }
        cursor::page(items, query)
    }

    async fn transact_write(&self, actions: Vec<TxAction>) -> StoreResult<()> {
        checks::transaction(&actions)?;
        let items = actions
            .iter()
            .map(|a| tx_item(&self.table, a))
            .collect::<StoreResult<Vec<_>>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    let reasons = cancelled.cancellation_reasons();
                    let failed: Vec<usize> = reasons
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                        .map(|(i, _)| i)
                        .collect();
                    if !failed.is_empty() {
                        Err(StoreError::TransactionCanceled { failed })
                    } else if reasons
                        .iter()
                        .any(|r| r.code() == Some("TransactionConflict"))
                    {
                        Err(StoreError::TransactionConflict)
                    } else {
                        Err(unavailable(e))
                    }
                }
                _ => Err(unavailable(e)),
            },
        }
    }
}

/// Creates a table with Lectern's key schema (PK/SK, GSI1, TTL on `ttl`), on demand. For tests and
/// local emulators; in AWS the SAM template creates it.
pub async fn create_table(client: &Client, name: &str) -> StoreResult<()> {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(invalid)
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(invalid)
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
                    .map_err(invalid)?,
            );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => return Ok(()),
        Err(e) => return Err(unavailable(e)),
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL)
                .enabled(true)
                .build()
                .map_err(invalid)?,
        )
        .send()
        .await
        .map_err(unavailable)?;
    Ok(())
}
