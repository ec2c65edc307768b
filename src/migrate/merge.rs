//! The merge of two sorted streams, products by id and links by product, that
//! both `migrate` and `verify` walk.

use std::io::BufRead;

use super::copy::{copy_fields, parse_id};
use super::report::Sampled;
use super::MigrateError;

/// One link row: `(product_id, product_owner_id)`, either of which may be NULL.
pub(super) type LinkRow = (Option<i64>, Option<i64>);

/// The link rows, sorted by `(product_id, created_at, product_owner_id)`,
/// one `(product_id, product_owner_id)` at a time.
pub(super) struct Links<R> {
    reader: R,
    line: String,
    peeked: Option<LinkRow>,
    /// The stream ended; a COPY reader must not be read past its end.
    done: bool,
}

impl<R: BufRead> Links<R> {
    fn peek(&mut self) -> Result<Option<LinkRow>, MigrateError> {
        if self.peeked.is_none() && !self.done {
            self.line.clear();
            if self.reader.read_line(&mut self.line)? == 0 {
                self.done = true;
                return Ok(None);
            }
            let fields = copy_fields(self.line.trim_end_matches('\n'));
            let field = |i: usize| -> Result<Option<i64>, MigrateError> {
                match fields.get(i).cloned().flatten() {
                    None => Ok(None),
                    Some(f) => f.parse().map(Some).map_err(|_| {
                        MigrateError::UnexpectedRow(format!("link row {:?}", self.line))
                    }),
                }
            };
            self.peeked = Some((field(0)?, field(1)?));
        }
        Ok(self.peeked)
    }

    /// Takes every row of the product at the head; returns its id and owners.
    fn take_group(
        &mut self,
        owners: &mut Vec<Option<i64>>,
    ) -> Result<Option<Option<i64>>, MigrateError> {
        owners.clear();
        let Some((product, _)) = self.peek()? else {
            return Ok(None);
        };
        while let Some((p, owner)) = self.peek()? {
            if p != product {
                break;
            }
            owners.push(owner);
            self.peeked = None;
        }
        Ok(Some(product))
    }
}

/// The links of every product, in the order the migration uses.
pub(super) fn link_query(links: &str) -> String {
    format!(
        "COPY (SELECT product_id, product_owner_id FROM {links} \
         ORDER BY product_id, created_at, product_owner_id) TO STDOUT"
    )
}

impl<R: BufRead> Links<R> {
    pub(super) fn new(reader: R) -> Self {
        Links {
            reader,
            line: String::new(),
            peeked: None,
            done: false,
        }
    }
}

/// Walks the products (COPY lines ordered by id, the id first) and the links
/// (ordered by product) together, like a merge join: `product` gets each
/// product's fields and its owners in order, `orphan` each group of links
/// whose product does not exist (`None`: a NULL `product_id`). An id that
/// the products stream repeats (a table without a unique key) is returned,
/// every one, instead of being planned.
pub(super) fn merge_products_and_links(
    mut products: impl BufRead,
    links: &mut Links<impl BufRead>,
    mut product: impl FnMut(i64, &[Option<String>], &[Option<i64>]) -> Result<(), MigrateError>,
    mut orphan: impl FnMut(Option<i64>, usize),
) -> Result<Sampled<i64>, MigrateError> {
    let mut line = String::new();
    let mut owners: Vec<Option<i64>> = Vec::new();
    let mut previous: Option<i64> = None;
    let mut repeated = Sampled::default();
    let mut last_repeated: Option<i64> = None;
    loop {
        line.clear();
        if products.read_line(&mut line)? == 0 {
            break;
        }
        let fields = copy_fields(line.trim_end_matches('\n'));
        let id = parse_id(fields.first().and_then(|f| f.as_deref()))?;
        if previous == Some(id) {
            // Counted once per id, however many times it repeats.
            if last_repeated != Some(id) {
                repeated.add(id);
                last_repeated = Some(id);
            }
            continue;
        }
        previous = Some(id);
        // Links of products below this one have no product.
        while let Some((Some(p), _)) = links.peek()? {
            if p >= id {
                break;
            }
            let group = links.take_group(&mut owners)?.flatten();
            orphan(group, owners.len());
        }
        owners.clear();
        if let Some((Some(p), _)) = links.peek()? {
            if p == id {
                links.take_group(&mut owners)?;
            }
        }
        product(id, &fields, &owners)?;
    }
    // Whatever links are left point past the last product (or at NULL).
    while let Some(group) = links.take_group(&mut owners)? {
        orphan(group, owners.len());
    }
    Ok(repeated)
}
