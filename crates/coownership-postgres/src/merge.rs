//! The merge of two sorted streams, products by id and links by product, that
//! both `migrate` and `verify` walk.

use std::io::BufRead;

use crate::copy::{copy_fields, parse_id, parse_nullable_i64};
use crate::report::Sampled;
use crate::DbError;

/// One link row: `(product_id, product_owner_id)`, either of which may be NULL.
pub(super) type LinkRow = (Option<i64>, Option<i64>);

/// The link rows, sorted by `(product_id, created_at, product_owner_id)`,
/// one `(product_id, product_owner_id)` at a time.
pub(super) struct Links<R> {
    reader: R,
    line: Vec<u8>,
    peeked: Option<LinkRow>,
    /// The stream ended; a COPY reader must not be read past its end.
    done: bool,
}

impl<R: BufRead> Links<R> {
    pub(super) fn new(reader: R) -> Self {
        Links {
            reader,
            line: Vec::new(),
            peeked: None,
            done: false,
        }
    }

    fn peek(&mut self) -> Result<Option<LinkRow>, DbError> {
        if self.peeked.is_none() && !self.done {
            self.line.clear();
            if self.reader.read_until(b'\n', &mut self.line)? == 0 {
                self.done = true;
                return Ok(None);
            }
            // Two integer columns: no escapes to undo, so no allocation.
            let line = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
            let mut fields = line.split(|&b| b == b'\t');
            let row = match (fields.next(), fields.next(), fields.next()) {
                (Some(product), Some(owner), None) => {
                    parse_nullable_i64(product).zip(parse_nullable_i64(owner))
                }
                _ => None,
            };
            let Some(row) = row else {
                return Err(DbError::UnexpectedRow(format!(
                    "link row {:?}",
                    String::from_utf8_lossy(&self.line)
                )));
            };
            self.peeked = Some(row);
        }
        Ok(self.peeked)
    }

    /// Takes every row of the product at the head; returns its id and owners.
    fn take_group(
        &mut self,
        owners: &mut Vec<Option<i64>>,
    ) -> Result<Option<Option<i64>>, DbError> {
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

/// Products as COPY text lines ordered by id, the id first: each product's
/// id and every field of its line.
pub(super) fn copy_products(
    mut reader: impl BufRead,
) -> impl Iterator<Item = Result<(i64, Vec<Option<String>>), DbError>> {
    let mut line = String::new();
    std::iter::from_fn(move || {
        line.clear();
        match reader.read_line(&mut line) {
            Err(e) => Some(Err(e.into())),
            Ok(0) => None,
            Ok(_) => {
                let fields = copy_fields(line.trim_end_matches('\n'));
                Some(parse_id(fields.first().and_then(|f| f.as_deref())).map(|id| (id, fields)))
            }
        }
    })
}

/// Walks the products (ascending ids, each with whatever `P` the caller
/// read with it) and the links (ordered by product) together, like a merge
/// join: `product` gets each product's id, its `P` and its owners in order,
/// `orphan` each group of links whose product does not exist (`None`: a
/// NULL `product_id`). An id that the products stream repeats (a table
/// without a unique key) is returned, every one, instead of being planned.
pub(super) fn merge_products_and_links<P>(
    products: impl Iterator<Item = Result<(i64, P), DbError>>,
    links: &mut Links<impl BufRead>,
    mut product: impl FnMut(i64, P, &[Option<i64>]) -> Result<(), DbError>,
    mut orphan: impl FnMut(Option<i64>, usize),
) -> Result<Sampled<i64>, DbError> {
    let mut owners: Vec<Option<i64>> = Vec::new();
    let mut previous: Option<i64> = None;
    let mut repeated = Sampled::default();
    let mut last_repeated: Option<i64> = None;
    for row in products {
        let (id, fields) = row?;
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
        product(id, fields, &owners)?;
    }
    // Whatever links are left point past the last product (or at NULL).
    while let Some(group) = links.take_group(&mut owners)? {
        orphan(group, owners.len());
    }
    Ok(repeated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(text: &str) -> Links<&[u8]> {
        Links::new(text.as_bytes())
    }

    #[test]
    fn link_rows_parse_nulls_and_refuse_anything_else() {
        let mut l = links("1\t2\n\\N\t3\n4\t\\N\n");
        let mut owners = Vec::new();
        assert_eq!(l.take_group(&mut owners).unwrap(), Some(Some(1)));
        assert_eq!(owners, [Some(2)]);
        assert_eq!(l.take_group(&mut owners).unwrap(), Some(None));
        assert_eq!(l.take_group(&mut owners).unwrap(), Some(Some(4)));
        assert_eq!(owners, [None]);
        assert_eq!(l.take_group(&mut owners).unwrap(), None);
        for bad in ["1\n", "1\t2\t3\n", "x\t2\n", "1\t2.0\n", "1\t\n"] {
            assert!(
                matches!(links(bad).peek(), Err(DbError::UnexpectedRow(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_merge_finds_orphans_and_repeated_ids() {
        let products = [1, 3, 3, 3, 5].map(|id| Ok((id, ())));
        let mut l = links("0\t9\n1\t7\n1\t8\n2\t6\n5\t4\n6\t1\n\\N\t2\n");
        let (mut seen, mut orphans) = (Vec::new(), Vec::new());
        let repeated = merge_products_and_links(
            products.into_iter(),
            &mut l,
            |id, (), owners| {
                seen.push((id, owners.to_vec()));
                Ok(())
            },
            |p, rows| orphans.push((p, rows)),
        )
        .unwrap();
        assert_eq!(
            seen,
            [(1, vec![Some(7), Some(8)]), (3, vec![]), (5, vec![Some(4)])]
        );
        assert_eq!(
            orphans,
            [(Some(0), 1), (Some(2), 1), (Some(6), 1), (None, 1)]
        );
        assert_eq!((repeated.count, repeated.samples), (1, vec![3]));
    }
}
