//! The DynamoDB backend: the single table in DynamoDB, written with `TransactWriteItems`, or
//! with `PutItem` / `DeleteItem` when a "transaction" has one write (the same guarantee for
//! half the write capacity).
//!
//! Each item has the string keys `pk` and `sk`, a numeric `version`, the entity as JSON in
//! `data`, and an optional `expires_at` (the table's TTL attribute). Conditions become
//! `attribute_not_exists(pk)` or `#v = :v` on each write, so DynamoDB itself refuses a second
//! claim on a slot; an [`Write::Ensure`] is an update that sets each attribute only
//! `if_not_exists`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem, Update,
};

use crate::table::{BackendError, Cond, Item, SkRange, Table, TransactError, Write};

/// The table's TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// A single table in DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoTable {
    client: Client,
    table: String,
}

impl DynamoTable {
    /// Uses an existing client and table.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Connects with the environment's AWS configuration (region, credentials), as in Lambda.
    pub async fn from_env(table: impl Into<String>) -> Self {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(Client::new(&config), table)
    }

    /// Connects to a DynamoDB-compatible server at `endpoint` with fixed test credentials
    /// (moto on loopback in tests; DynamoDB Local by hand).
    pub fn local(endpoint: &str, table: impl Into<String>) -> Self {
        let creds = aws_credential_types::Credentials::new("test", "test", None, None, "local");
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("eu-central-1"))
            .endpoint_url(endpoint)
            .credentials_provider(creds)
            .build();
        Self::new(Client::from_conf(config), table)
    }

    /// Returns the table's name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Creates the table as `template.yaml` does (pay per request, TTL on `expires_at`),
    /// for local servers and tests.
    pub async fn create_table(&self) -> Result<(), BackendError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("name and type are set")
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("name and type are set")
        };
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk"))
            .attribute_definitions(attr("sk"))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .send()
            .await
            .map_err(|e| {
                BackendError::new(
                    format!("creating table {}", self.table),
                    e.into_service_error(),
                )
            })?;
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(TTL_ATTRIBUTE)
            .build()
            .expect("name and flag are set");
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| BackendError::new("enabling TTL", e.into_service_error()))?;
        Ok(())
    }

    fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
            ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
        ])
    }

    /// An item's attributes, as stored.
    fn attrs(item: Item) -> HashMap<String, AttributeValue> {
        let mut attrs = Self::key(&item.pk, &item.sk);
        attrs.insert(
            "version".into(),
            AttributeValue::N(item.version.to_string()),
        );
        attrs.insert("data".into(), AttributeValue::S(item.data));
        if let Some(e) = item.expires_at {
            attrs.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(e.to_string()));
        }
        attrs
    }

    /// An [`Write::Ensure`] as an update expression: every attribute set only where it does
    /// not exist yet, so an existing item keeps what it has (and no condition can fail).
    fn ensure_expression(item: Item) -> Ensured {
        let key = Self::key(&item.pk, &item.sk);
        let mut names = HashMap::from([
            ("#v".to_owned(), "version".to_owned()),
            ("#d".to_owned(), "data".to_owned()),
        ]);
        let mut values = HashMap::from([
            (":v".to_owned(), AttributeValue::N(item.version.to_string())),
            (":d".to_owned(), AttributeValue::S(item.data)),
        ]);
        let mut expression =
            "SET #v = if_not_exists(#v, :v), #d = if_not_exists(#d, :d)".to_owned();
        if let Some(e) = item.expires_at {
            names.insert("#e".into(), TTL_ATTRIBUTE.into());
            values.insert(":e".into(), AttributeValue::N(e.to_string()));
            expression.push_str(", #e = if_not_exists(#e, :e)");
        }
        Ensured {
            key,
            expression,
            names,
            values,
        }
    }

    /// One write alone, as `PutItem` or `DeleteItem` with its condition: one request, like a
    /// transaction of one, at half its write capacity.
    async fn write_one(&self, w: Write) -> Result<(), TransactError> {
        match w {
            Write::Put { item, cond } => {
                let c = Condition::of(cond);
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(Self::attrs(item)))
                    .set_condition_expression(c.expression)
                    .set_expression_attribute_names(c.names)
                    .set_expression_attribute_values(c.values)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| single_write_error(e, "writing an item"))
            }
            Write::Delete { pk, sk, cond } => {
                let c = Condition::of(cond);
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(Self::key(&pk, &sk)))
                    .set_condition_expression(c.expression)
                    .set_expression_attribute_names(c.names)
                    .set_expression_attribute_values(c.values)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| single_write_error(e, "deleting an item"))
            }
            Write::Ensure { item } => {
                let e = Self::ensure_expression(item);
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(e.key))
                    .update_expression(e.expression)
                    .set_expression_attribute_names(Some(e.names))
                    .set_expression_attribute_values(Some(e.values))
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| single_write_error(e, "ensuring an item"))
            }
        }
    }

    fn to_write(&self, w: Write) -> Result<TransactWriteItem, BackendError> {
        let built =
            |e: aws_sdk_dynamodb::error::BuildError| BackendError::new("building a transaction", e);
        Ok(match w {
            Write::Put { item, cond } => {
                let c = Condition::of(cond);
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(Self::attrs(item)))
                    .set_condition_expression(c.expression)
                    .set_expression_attribute_names(c.names)
                    .set_expression_attribute_values(c.values);
                TransactWriteItem::builder()
                    .put(put.build().map_err(built)?)
                    .build()
            }
            Write::Delete { pk, sk, cond } => {
                let c = Condition::of(cond);
                let del = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(Self::key(&pk, &sk)))
                    .set_condition_expression(c.expression)
                    .set_expression_attribute_names(c.names)
                    .set_expression_attribute_values(c.values);
                TransactWriteItem::builder()
                    .delete(del.build().map_err(built)?)
                    .build()
            }
            Write::Ensure { item } => {
                let e = Self::ensure_expression(item);
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(e.key))
                    .update_expression(e.expression)
                    .set_expression_attribute_names(Some(e.names))
                    .set_expression_attribute_values(Some(e.values));
                TransactWriteItem::builder()
                    .update(update.build().map_err(built)?)
                    .build()
            }
        })
    }
}

/// An update that creates an item's attributes only where they do not exist.
struct Ensured {
    key: HashMap<String, AttributeValue>,
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

/// A write's condition as DynamoDB takes it, for any of the write builders.
struct Condition {
    expression: Option<String>,
    names: Option<HashMap<String, String>>,
    values: Option<HashMap<String, AttributeValue>>,
}

impl Condition {
    fn of(cond: Cond) -> Self {
        match cond {
            Cond::Any => Self {
                expression: None,
                names: None,
                values: None,
            },
            Cond::Absent => Self {
                expression: Some("attribute_not_exists(pk)".into()),
                names: None,
                values: None,
            },
            Cond::Version(v) => Self {
                expression: Some("#v = :v".into()),
                names: Some(HashMap::from([("#v".into(), "version".into())])),
                values: Some(HashMap::from([(
                    ":v".into(),
                    AttributeValue::N(v.to_string()),
                )])),
            },
        }
    }
}

/// A single write's failure: its condition failed, a transaction held the item, or the
/// backend failed.
fn single_write_error<E, R>(e: SdkError<E, R>, what: &str) -> TransactError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match e.as_service_error().and_then(ProvideErrorMetadata::code) {
        Some("ConditionalCheckFailedException") => TransactError::Conflict(vec![0]),
        Some("TransactionConflictException") => TransactError::Contended,
        _ => BackendError::new(what.to_owned(), e).into(),
    }
}

/// Reads an item's attributes back, refusing one that is not ours.
fn from_attrs(attrs: &HashMap<String, AttributeValue>) -> Result<Item, BackendError> {
    let s = |name: &str| match attrs.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(BackendError::msg(format!(
            "item without string attribute {name}"
        ))),
    };
    let n = |name: &str| match attrs.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| BackendError::msg(format!("attribute {name} is not an integer"))),
        None => Ok(None),
        _ => Err(BackendError::msg(format!(
            "attribute {name} is not a number"
        ))),
    };
    Ok(Item {
        pk: s("pk")?,
        sk: s("sk")?,
        version: n("version")?.unwrap_or(0).max(0) as u64,
        data: s("data")?,
        expires_at: n(TTL_ATTRIBUTE)?,
    })
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, BackendError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| BackendError::new("reading an item", e.into_service_error()))?;
        match out.item() {
            Some(attrs) => Ok(Some(from_attrs(attrs)?)),
            None => Ok(None),
        }
    }

    async fn query(&self, pk: &str, range: SkRange<'_>) -> Result<Vec<Item>, BackendError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let q = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                .set_exclusive_start_key(start.take());
            let q = match range {
                SkRange::Prefix(p) => q
                    .key_condition_expression("pk = :pk AND begins_with(sk, :a)")
                    .expression_attribute_values(":a", AttributeValue::S(p.to_owned())),
                SkRange::Between(a, b) => q
                    .key_condition_expression("pk = :pk AND sk BETWEEN :a AND :b")
                    .expression_attribute_values(":a", AttributeValue::S(a.to_owned()))
                    .expression_attribute_values(":b", AttributeValue::S(b.to_owned())),
            };
            let page = q
                .send()
                .await
                .map_err(|e| BackendError::new("querying", e.into_service_error()))?;
            for attrs in page.items() {
                out.push(from_attrs(attrs)?);
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    async fn transact(&self, mut writes: Vec<Write>) -> Result<(), TransactError> {
        if writes.len() == 1
            && let Some(w) = writes.pop()
        {
            return self.write_one(w).await;
        }
        let items = writes
            .into_iter()
            .map(|w| self.to_write(w))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                TransactWriteItemsError::TransactionCanceledException(ex) => {
                    let reasons = ex.cancellation_reasons();
                    let failed: Vec<usize> = reasons
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                        .map(|(i, _)| i)
                        .collect();
                    if !failed.is_empty() {
                        Err(TransactError::Conflict(failed))
                    } else if reasons
                        .iter()
                        .any(|r| r.code() == Some("TransactionConflict"))
                    {
                        Err(TransactError::Contended)
                    } else {
                        Err(BackendError::new("the transaction was cancelled", ex).into())
                    }
                }
                TransactWriteItemsError::TransactionInProgressException(_) => {
                    Err(TransactError::Contended)
                }
                other => Err(BackendError::new("writing a transaction", other).into()),
            },
            Err(e) => Err(BackendError::new("writing a transaction", e).into()),
        }
    }
}
