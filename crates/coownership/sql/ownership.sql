-- ownership: the rules for `ownership_details`, in SQL.
--
-- Shipped with the `coownership` crate (docs: the README's "SQL functions"):
-- the database enforces the same rules as the application, with the same
-- violation codes as the Rust `ViolationCode`s. Plain SQL and PL/pgSQL, for
-- PostgreSQL 13 and later. Idempotent: running it again installs this
-- revision over any earlier one (`coownership constrain` does so and reports
-- the revisions).
--
-- @extschema@ is the schema the functions live in, like an extension's:
-- `coownership sql --schema S` and `coownership::sql::functions("S")` fill it
-- in (default `public`). The schema must exist; installing needs CREATE on it.
--
-- Safe under any search_path. A restore (pg_dump sets an empty search_path)
-- and a role that puts a schema of its own first on its search_path both call
-- these functions, from a CHECK constraint, in a session whose search_path
-- we do not choose. So every name in a body is resolved without it: our own
-- functions as @extschema@.f, built-in functions as pg_catalog.f, operators
-- as OPERATOR(pg_catalog.op), types by keyword (numeric, integer, bigint,
-- boolean: always pg_catalog's) or as pg_catalog.text / pg_catalog.jsonb.
-- Constructs that look an operator up by name are not used (IN, BETWEEN,
-- CASE x WHEN, IS DISTINCT FROM, LIKE): they are spelled out with
-- OPERATOR(pg_catalog.=). Literals that hold a backslash are E'' strings,
-- which read the same whatever standard_conforming_strings says.
-- Why qualify rather than `SET search_path` on each function: a SET clause
-- makes every call save and restore a setting, and stops a SQL function from
-- being inlined into the query that calls it. Measured on PostgreSQL 17 over
-- 200,000 documents, same run: ownership_is_valid_strict with a SET clause
-- took 3 % longer; ownership_apportion, whose SQL wrapper is then no longer
-- inlined, 27 % longer.
--
-- Collation and locale: nothing here depends on them. Keys are matched with
-- regular expressions that name their characters (ASCII digits, the 25
-- Unicode White_Space code points by number), never a [[:class:]], whose
-- meaning follows the database's locale; ids are compared as numbers.
--
-- Limits (the Rust `Limits::DEFAULT`, returned by ownership_limits()): a
-- document of at most 524,288 bytes as PostgreSQL prints it (d::text),
-- nesting at most 64 levels (the document itself is level 1), at most 10,000
-- owners. Every check is linear in the size of the document.
--
--   ownership_sql_version()              -> integer  this file's revision
--   ownership_limits()                   -> TABLE(max_bytes, max_depth, max_owners)
--   ownership_strict_violations(d jsonb) -> text[]   codes; '{}' when valid
--   ownership_is_valid_strict(d jsonb)   -> boolean  for a CHECK constraint (strict rules)
--   ownership_is_valid_seed(d jsonb)     -> boolean  the legacy CHECK, for a CHECK constraint (seed rules)
--   ownership_owner_ids(d jsonb)         -> bigint[] every owner, in the crate's owner order
--   ownership_share(d jsonb, owner bigint) -> numeric that owner's percentage; NULL if not an owner
--   ownership_apportion(doc jsonb, amount numeric, decimals integer DEFAULT 2)
--                                        -> TABLE(owner_id bigint, amount numeric)
--                                           exactly the Rust `apportion`: parts that add up to the amount

-- The revision of the shipped functions; `coownership::sql::VERSION`.
-- Revision 1 had no such function; 2 added the seed's CHECK; 3 the money
-- functions; 4 the schema, search_path safety, the limits and the fast check.
CREATE OR REPLACE FUNCTION @extschema@.ownership_sql_version()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$ SELECT 4 $fn$;

COMMENT ON FUNCTION @extschema@.ownership_sql_version() IS
    'The revision of the ownership_* functions shipped by the coownership crate.';

-- The strict rules' size limits, the same as the Rust `Limits::DEFAULT`.
CREATE OR REPLACE FUNCTION @extschema@.ownership_limits(
    OUT max_bytes integer, OUT max_depth integer, OUT max_owners integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$ SELECT 524288, 64, 10000 $fn$;

COMMENT ON FUNCTION @extschema@.ownership_limits() IS
    'The strict rules'' limits: bytes of d::text, nesting depth, owners (the coownership crate''s Limits::DEFAULT).';

-- Every code a document breaks, as the Rust strict rules report them. Used
-- to explain a rejection: the CHECK calls ownership_is_valid_strict, which
-- gives the same verdict faster (the tests prove both against the Rust
-- rules). One pass over the keys; the joint owners in one set-based query,
-- so that the work grows linearly with the owners.
CREATE OR REPLACE FUNCTION @extschema@.ownership_strict_violations(d pg_catalog.jsonb)
RETURNS pg_catalog.text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
DECLARE
    codes     pg_catalog.text[] := '{}';
    kind      pg_catalog.text;   -- the association type, when it is valid
    joint     pg_catalog.jsonb;
    k         pg_catalog.text;
    v         pg_catalog.jsonb;
    n         numeric;
    owners    integer := 0;      -- keys of ASCII digits
    shares_ok boolean := true;   -- every owner key canonical with a valid share
    total     numeric := 0;      -- the sum of the valid shares
    len       integer;
    bad       bigint;
    dup       bigint;
BEGIN
    IF pg_catalog.jsonb_typeof(d) OPERATOR(pg_catalog.<>) 'object' THEN
        RETURN ARRAY['not_an_object'];
    END IF;
    IF pg_catalog.octet_length(d::pg_catalog.text) OPERATOR(pg_catalog.>) 524288 THEN
        codes := pg_catalog.array_append(codes, 'document_too_large');
    END IF;
    -- A container at level 64 (the document is level 0) nests 65 deep.
    IF pg_catalog.jsonb_path_exists(d,
        'strict $.**{64 to last} ? (@.type() == "object" || @.type() == "array")') THEN
        codes := pg_catalog.array_append(codes, 'document_too_deep');
    END IF;
    IF NOT d OPERATOR(pg_catalog.?) 'association_type' THEN
        codes := pg_catalog.array_append(codes, 'missing_association_type');
    ELSIF pg_catalog.jsonb_typeof(d OPERATOR(pg_catalog.->) 'association_type') OPERATOR(pg_catalog.=) 'string'
          AND (d OPERATOR(pg_catalog.->>) 'association_type') OPERATOR(pg_catalog.=)
              ANY (ARRAY['individual', 'tenants_in_common', 'joint_ownership']) THEN
        kind := d OPERATOR(pg_catalog.->>) 'association_type';
    ELSE
        codes := pg_catalog.array_append(codes, 'invalid_association_type');
    END IF;
    joint := d OPERATOR(pg_catalog.->) 'joint_owners';

    FOR k, v IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(d) AS e LOOP
        IF k OPERATOR(pg_catalog.=) 'association_type' OR k OPERATOR(pg_catalog.=) 'joint_owners' THEN
            CONTINUE;
        END IF;
        IF k OPERATOR(pg_catalog.!~) '^[0-9]+$' THEN
            -- Metadata, unless it looks like an owner id that is not plain
            -- digits (signs, spaces, separators): the legacy rules would
            -- silently ignore that owner. The digits (Unicode 14's Nd) and
            -- spaces (White_Space) by code point: the crate's owner_key
            -- module generates this pattern and a test checks it here.
            IF k OPERATOR(pg_catalog.~) E'^[\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028-\\u2029\\u202F\\u205F\\u3000+,.\\u0030-\\u0039\\u0660-\\u0669\\u06F0-\\u06F9\\u07C0-\\u07C9\\u0966-\\u096F\\u09E6-\\u09EF\\u0A66-\\u0A6F\\u0AE6-\\u0AEF\\u0B66-\\u0B6F\\u0BE6-\\u0BEF\\u0C66-\\u0C6F\\u0CE6-\\u0CEF\\u0D66-\\u0D6F\\u0DE6-\\u0DEF\\u0E50-\\u0E59\\u0ED0-\\u0ED9\\u0F20-\\u0F29\\u1040-\\u1049\\u1090-\\u1099\\u17E0-\\u17E9\\u1810-\\u1819\\u1946-\\u194F\\u19D0-\\u19D9\\u1A80-\\u1A89\\u1A90-\\u1A99\\u1B50-\\u1B59\\u1BB0-\\u1BB9\\u1C40-\\u1C49\\u1C50-\\u1C59\\uA620-\\uA629\\uA8D0-\\uA8D9\\uA900-\\uA909\\uA9D0-\\uA9D9\\uA9F0-\\uA9F9\\uAA50-\\uAA59\\uABF0-\\uABF9\\uFF10-\\uFF19\\U000104A0-\\U000104A9\\U00010D30-\\U00010D39\\U00011066-\\U0001106F\\U000110F0-\\U000110F9\\U00011136-\\U0001113F\\U000111D0-\\U000111D9\\U000112F0-\\U000112F9\\U00011450-\\U00011459\\U000114D0-\\U000114D9\\U00011650-\\U00011659\\U000116C0-\\U000116C9\\U00011730-\\U00011739\\U000118E0-\\U000118E9\\U00011950-\\U00011959\\U00011C50-\\U00011C59\\U00011D50-\\U00011D59\\U00011DA0-\\U00011DA9\\U00016A60-\\U00016A69\\U00016AC0-\\U00016AC9\\U00016B50-\\U00016B59\\U0001D7CE-\\U0001D7FF\\U0001E140-\\U0001E149\\U0001E2F0-\\U0001E2F9\\U0001E950-\\U0001E959\\U0001FBF0-\\U0001FBF9-]*[\\u0030-\\u0039\\u0660-\\u0669\\u06F0-\\u06F9\\u07C0-\\u07C9\\u0966-\\u096F\\u09E6-\\u09EF\\u0A66-\\u0A6F\\u0AE6-\\u0AEF\\u0B66-\\u0B6F\\u0BE6-\\u0BEF\\u0C66-\\u0C6F\\u0CE6-\\u0CEF\\u0D66-\\u0D6F\\u0DE6-\\u0DEF\\u0E50-\\u0E59\\u0ED0-\\u0ED9\\u0F20-\\u0F29\\u1040-\\u1049\\u1090-\\u1099\\u17E0-\\u17E9\\u1810-\\u1819\\u1946-\\u194F\\u19D0-\\u19D9\\u1A80-\\u1A89\\u1A90-\\u1A99\\u1B50-\\u1B59\\u1BB0-\\u1BB9\\u1C40-\\u1C49\\u1C50-\\u1C59\\uA620-\\uA629\\uA8D0-\\uA8D9\\uA900-\\uA909\\uA9D0-\\uA9D9\\uA9F0-\\uA9F9\\uAA50-\\uAA59\\uABF0-\\uABF9\\uFF10-\\uFF19\\U000104A0-\\U000104A9\\U00010D30-\\U00010D39\\U00011066-\\U0001106F\\U000110F0-\\U000110F9\\U00011136-\\U0001113F\\U000111D0-\\U000111D9\\U000112F0-\\U000112F9\\U00011450-\\U00011459\\U000114D0-\\U000114D9\\U00011650-\\U00011659\\U000116C0-\\U000116C9\\U00011730-\\U00011739\\U000118E0-\\U000118E9\\U00011950-\\U00011959\\U00011C50-\\U00011C59\\U00011D50-\\U00011D59\\U00011DA0-\\U00011DA9\\U00016A60-\\U00016A69\\U00016AC0-\\U00016AC9\\U00016B50-\\U00016B59\\U0001D7CE-\\U0001D7FF\\U0001E140-\\U0001E149\\U0001E2F0-\\U0001E2F9\\U0001E950-\\U0001E959\\U0001FBF0-\\U0001FBF9][\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028-\\u2029\\u202F\\u205F\\u3000+,.\\u0030-\\u0039\\u0660-\\u0669\\u06F0-\\u06F9\\u07C0-\\u07C9\\u0966-\\u096F\\u09E6-\\u09EF\\u0A66-\\u0A6F\\u0AE6-\\u0AEF\\u0B66-\\u0B6F\\u0BE6-\\u0BEF\\u0C66-\\u0C6F\\u0CE6-\\u0CEF\\u0D66-\\u0D6F\\u0DE6-\\u0DEF\\u0E50-\\u0E59\\u0ED0-\\u0ED9\\u0F20-\\u0F29\\u1040-\\u1049\\u1090-\\u1099\\u17E0-\\u17E9\\u1810-\\u1819\\u1946-\\u194F\\u19D0-\\u19D9\\u1A80-\\u1A89\\u1A90-\\u1A99\\u1B50-\\u1B59\\u1BB0-\\u1BB9\\u1C40-\\u1C49\\u1C50-\\u1C59\\uA620-\\uA629\\uA8D0-\\uA8D9\\uA900-\\uA909\\uA9D0-\\uA9D9\\uA9F0-\\uA9F9\\uAA50-\\uAA59\\uABF0-\\uABF9\\uFF10-\\uFF19\\U000104A0-\\U000104A9\\U00010D30-\\U00010D39\\U00011066-\\U0001106F\\U000110F0-\\U000110F9\\U00011136-\\U0001113F\\U000111D0-\\U000111D9\\U000112F0-\\U000112F9\\U00011450-\\U00011459\\U000114D0-\\U000114D9\\U00011650-\\U00011659\\U000116C0-\\U000116C9\\U00011730-\\U00011739\\U000118E0-\\U000118E9\\U00011950-\\U00011959\\U00011C50-\\U00011C59\\U00011D50-\\U00011D59\\U00011DA0-\\U00011DA9\\U00016A60-\\U00016A69\\U00016AC0-\\U00016AC9\\U00016B50-\\U00016B59\\U0001D7CE-\\U0001D7FF\\U0001E140-\\U0001E149\\U0001E2F0-\\U0001E2F9\\U0001E950-\\U0001E959\\U0001FBF0-\\U0001FBF9-]*$' THEN
                codes := pg_catalog.array_append(codes, 'malformed_owner_key');
            END IF;
            CONTINUE;
        END IF;
        -- An owner key (^[0-9]+$, as in the legacy rules): it must be a
        -- canonical positive BIGINT id.
        owners := owners OPERATOR(pg_catalog.+) 1;
        IF k OPERATOR(pg_catalog.!~) '^[1-9][0-9]{0,18}$'
           OR k::numeric OPERATOR(pg_catalog.>) 9223372036854775807 THEN
            codes := pg_catalog.array_append(codes, 'non_canonical_owner_key');
            shares_ok := false;
        END IF;
        IF kind OPERATOR(pg_catalog.=) 'joint_ownership' THEN
            codes := pg_catalog.array_append(codes, 'unexpected_share');
        ELSIF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'number' THEN
            codes := pg_catalog.array_append(codes, 'share_not_a_number');
            shares_ok := false;
        ELSE
            n := v::numeric;
            IF n OPERATOR(pg_catalog.<=) 0 THEN
                codes := pg_catalog.array_append(codes, 'share_not_positive');
                shares_ok := false;
            ELSIF n OPERATOR(pg_catalog.>) 100 THEN
                codes := pg_catalog.array_append(codes, 'share_above_100');
                shares_ok := false;
            ELSIF n OPERATOR(pg_catalog.<>) pg_catalog.round(n, 2) THEN
                codes := pg_catalog.array_append(codes, 'share_too_precise');
                shares_ok := false;
            ELSE
                total := total OPERATOR(pg_catalog.+) n;
            END IF;
        END IF;
    END LOOP;
    IF owners OPERATOR(pg_catalog.>) 10000 THEN
        codes := pg_catalog.array_append(codes, 'too_many_owners');
    END IF;

    IF kind OPERATOR(pg_catalog.=) 'individual' THEN
        IF joint IS NOT NULL THEN
            codes := pg_catalog.array_append(codes, 'unexpected_joint_owners');
        END IF;
        IF owners OPERATOR(pg_catalog.<>) 1 THEN
            codes := pg_catalog.array_append(codes, 'individual_owner_count');
        ELSIF shares_ok AND total OPERATOR(pg_catalog.<>) 100 THEN
            codes := pg_catalog.array_append(codes, 'individual_share_not_100');
        END IF;
    ELSIF kind OPERATOR(pg_catalog.=) 'tenants_in_common' THEN
        IF joint IS NOT NULL THEN
            codes := pg_catalog.array_append(codes, 'unexpected_joint_owners');
        END IF;
        IF owners OPERATOR(pg_catalog.<) 2 THEN
            codes := pg_catalog.array_append(codes, 'too_few_owners');
        END IF;
        IF owners OPERATOR(pg_catalog.>=) 1 AND shares_ok AND total OPERATOR(pg_catalog.<>) 100 THEN
            codes := pg_catalog.array_append(codes, 'total_not_100');
        END IF;
    ELSIF kind OPERATOR(pg_catalog.=) 'joint_ownership' THEN
        IF joint IS NULL THEN
            codes := pg_catalog.array_append(codes, 'missing_joint_owners');
        ELSIF pg_catalog.jsonb_typeof(joint) OPERATOR(pg_catalog.<>) 'array' THEN
            codes := pg_catalog.array_append(codes, 'joint_owners_not_array');
        ELSE
            len := pg_catalog.jsonb_array_length(joint);
            IF len OPERATOR(pg_catalog.>) 10000 THEN
                codes := pg_catalog.array_append(codes, 'too_many_owners');
            END IF;
            -- Positive BIGINT ids, judged by value (2.0 is owner 2), each
            -- once: the elements that are not ids, and the repeats of ids
            -- (grouped by a hash or a sort, never pairwise).
            SELECT pg_catalog.count(*) FILTER (WHERE NOT g.ok),
                   pg_catalog.sum(g.c OPERATOR(pg_catalog.-) 1) FILTER (WHERE g.ok)
              INTO bad, dup
              FROM (SELECT o.ok, pg_catalog.count(*) AS c
                      FROM (SELECT a.value, a.i,
                                   CASE WHEN pg_catalog.jsonb_typeof(a.value) OPERATOR(pg_catalog.=) 'number'
                                        THEN a.value::numeric OPERATOR(pg_catalog.=) pg_catalog.trunc(a.value::numeric)
                                             AND a.value::numeric OPERATOR(pg_catalog.>=) 1
                                             AND a.value::numeric OPERATOR(pg_catalog.<=) 9223372036854775807
                                        ELSE false END AS ok
                              FROM pg_catalog.jsonb_array_elements(joint) WITH ORDINALITY AS a(value, i)) AS o
                     GROUP BY o.ok, CASE WHEN o.ok THEN o.value::numeric ELSE o.i::numeric END) AS g;
            IF bad OPERATOR(pg_catalog.>) 0 THEN
                codes := pg_catalog.array_append(codes, 'invalid_joint_owner');
            END IF;
            IF dup OPERATOR(pg_catalog.>) 0 THEN
                codes := pg_catalog.array_append(codes, 'duplicate_joint_owner');
            END IF;
            IF len OPERATOR(pg_catalog.<) 2 THEN
                codes := pg_catalog.array_append(codes, 'too_few_owners');
            END IF;
        END IF;
    END IF;
    RETURN codes;
END;
$fn$;

COMMENT ON FUNCTION @extschema@.ownership_strict_violations(pg_catalog.jsonb) IS
    'Violation codes of an ownership_details document under the strict rules of the coownership crate; empty when valid.';

-- The verdict of ownership_strict_violations, without the codes, for a CHECK
-- constraint: TRUE exactly when that function returns '{}' (NULL for NULL).
-- Speed matters here (every write, and every row when a constraint is
-- validated), and a PL/pgSQL loop over jsonb_each costs a query per
-- document, about as much as the rest of the check. So the documents the
-- application writes (owner keys and shares, or joint owners, and no
-- metadata) are checked on their printed form: with association_type
-- removed, the text of such a document is matched by one regular expression
-- that admits only canonical ids below 10^18 and valid shares, and so
-- decides every key and share rule at once; jsonb prints it canonically (no
-- spaces of the writer's, no exponents, escaped quotes). Everything else
-- (metadata, 19-digit ids, shares such as 33.330) goes to the full check,
-- ownership_strict_violations. The limits cannot be reached on the fast
-- path: its documents nest at most 2 deep, and hold at most 10,000 owners of
-- at most 80 bytes each, unless a share is a long run of zeros, which the
-- size test below catches.
CREATE OR REPLACE FUNCTION @extschema@.ownership_is_valid_strict(d pg_catalog.jsonb)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
DECLARE
    kind   pg_catalog.text;
    rest   pg_catalog.text;
    tail   pg_catalog.text;
    joint  pg_catalog.jsonb;
    shares pg_catalog.jsonb;
    n      integer;
    v      numeric;
    total  numeric := 0;
BEGIN
    IF pg_catalog.jsonb_typeof(d) OPERATOR(pg_catalog.<>) 'object'
       OR pg_catalog.jsonb_typeof(d OPERATOR(pg_catalog.->) 'association_type') IS NULL
       OR pg_catalog.jsonb_typeof(d OPERATOR(pg_catalog.->) 'association_type') OPERATOR(pg_catalog.<>) 'string' THEN
        RETURN false;
    END IF;
    kind := d OPERATOR(pg_catalog.->>) 'association_type';
    IF kind OPERATOR(pg_catalog.=) 'joint_ownership' THEN
        joint := d OPERATOR(pg_catalog.->) 'joint_owners';
        IF joint IS NULL OR pg_catalog.jsonb_typeof(joint) OPERATOR(pg_catalog.<>) 'array'
           OR (d OPERATOR(pg_catalog.-) 'association_type' OPERATOR(pg_catalog.-) 'joint_owners')
              OPERATOR(pg_catalog.<>) '{}'::pg_catalog.jsonb THEN
            RETURN pg_catalog.cardinality(@extschema@.ownership_strict_violations(d)) OPERATOR(pg_catalog.=) 0;
        END IF;
        -- Whole numbers from 1 to 10^18 - 1, printed without a fraction.
        rest := joint::pg_catalog.text;
        IF rest OPERATOR(pg_catalog.!~) '^[[][1-9][0-9]{0,17}(, [1-9][0-9]{0,17})+[]]$' THEN
            RETURN pg_catalog.cardinality(@extschema@.ownership_strict_violations(d)) OPERATOR(pg_catalog.=) 0;
        END IF;
        n := pg_catalog.jsonb_array_length(joint);
        IF n OPERATOR(pg_catalog.>) 10000 THEN
            RETURN false;
        END IF;
        -- Distinct: two are compared; more become the keys of an object,
        -- which keeps each key once.
        IF n OPERATOR(pg_catalog.=) 2 THEN
            RETURN (joint OPERATOR(pg_catalog.->) 0) OPERATOR(pg_catalog.<>) (joint OPERATOR(pg_catalog.->) 1);
        END IF;
        rest := pg_catalog.btrim(rest, '[]');
        shares := pg_catalog.jsonb_object(pg_catalog.string_to_array(rest, ', '), pg_catalog.string_to_array(rest, ', '));
        RETURN pg_catalog.jsonb_array_length(pg_catalog.jsonb_path_query_array(shares, '$.*'::pg_catalog.jsonpath))
               OPERATOR(pg_catalog.=) n;
    END IF;
    IF d OPERATOR(pg_catalog.?) 'joint_owners' THEN
        RETURN false;
    END IF;
    rest := (d OPERATOR(pg_catalog.-) 'association_type')::pg_catalog.text;
    IF kind OPERATOR(pg_catalog.=) 'individual' THEN
        -- {"id": 100}, the id of at most 18 digits.
        IF rest OPERATOR(pg_catalog.~) '^[{]"[1-9][0-9]*": 100([.]0*)?[}]$'
           AND pg_catalog.strpos(rest, '":') OPERATOR(pg_catalog.<=) 21 THEN
            RETURN true;
        END IF;
    ELSIF kind OPERATOR(pg_catalog.=) 'tenants_in_common' THEN
        -- {"id": share, "id": share, ...} with unsigned numbers as shares;
        -- jsonb orders keys shorter first, so the last id is the longest:
        -- at most 18 digits.
        IF rest OPERATOR(pg_catalog.~) '^[{]("[1-9][0-9]*": [0-9.]+(, |[}]$))+$' THEN
            tail := pg_catalog.reverse(rest);
            n := pg_catalog.strpos(tail, '"');
            IF pg_catalog.strpos(pg_catalog.substr(tail, n OPERATOR(pg_catalog.+) 1), '"') OPERATOR(pg_catalog.<=) 19 THEN
                shares := pg_catalog.jsonb_path_query_array(d OPERATOR(pg_catalog.-) 'association_type', '$.*'::pg_catalog.jsonpath);
                n := pg_catalog.jsonb_array_length(shares);
                -- Each share above 0, at most 100, with at most two decimals
                -- that are not zero.
                IF n OPERATOR(pg_catalog.<) 2 OR n OPERATOR(pg_catalog.>) 10000 THEN
                    RETURN false;
                END IF;
                FOR i IN 0 .. n OPERATOR(pg_catalog.-) 1 LOOP
                    v := (shares OPERATOR(pg_catalog.->) i)::numeric;
                    IF v OPERATOR(pg_catalog.<=) 0 OR v OPERATOR(pg_catalog.>) 100
                       OR pg_catalog.scale(v) OPERATOR(pg_catalog.>) 2 AND v OPERATOR(pg_catalog.<>) pg_catalog.round(v, 2) THEN
                        RETURN false;
                    END IF;
                    total := total OPERATOR(pg_catalog.+) v;
                END LOOP;
                RETURN total OPERATOR(pg_catalog.=) 100
                   AND pg_catalog.octet_length(rest) OPERATOR(pg_catalog.<=) 262144;
            END IF;
        END IF;
    ELSE
        RETURN false;
    END IF;
    RETURN pg_catalog.cardinality(@extschema@.ownership_strict_violations(d)) OPERATOR(pg_catalog.=) 0;
END;
$fn$;

COMMENT ON FUNCTION @extschema@.ownership_is_valid_strict(pg_catalog.jsonb) IS
    'TRUE when an ownership_details document follows the strict rules of the coownership crate (NULL for NULL).';

-- The seed's legacy CHECK (`valid_product_ownership_details_precise` with
-- `validate_ownership_percentages_precise`, the crate's `Rules::Seed`),
-- under our own names, so that `coownership constrain --rules seed` can put
-- it on the table as one shipped rule. The body of
-- ownership_seed_percentages is the seed's function, its names qualified
-- (and BETWEEN spelled out); nothing else changed.
CREATE OR REPLACE FUNCTION @extschema@.ownership_seed_percentages(ownership_data pg_catalog.jsonb)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
DECLARE
    total_percentage NUMERIC := 0;
    key pg_catalog.TEXT;
    value NUMERIC;
    percentage_count INTEGER := 0;
BEGIN
    IF NOT (ownership_data OPERATOR(pg_catalog.?) 'association_type') THEN
        RETURN TRUE;
    END IF;
    IF (ownership_data OPERATOR(pg_catalog.->>) 'association_type') OPERATOR(pg_catalog.=) 'tenants_in_common' THEN
        FOR key IN SELECT pg_catalog.jsonb_object_keys(ownership_data)
        LOOP
            IF key OPERATOR(pg_catalog.~) '^[0-9]+$' THEN
                value := pg_catalog.round((ownership_data OPERATOR(pg_catalog.->) key)::NUMERIC, 2);
                IF value OPERATOR(pg_catalog.<) 0 OR value OPERATOR(pg_catalog.>) 100 THEN
                    RETURN FALSE;
                END IF;
                total_percentage := total_percentage OPERATOR(pg_catalog.+) value;
                percentage_count := percentage_count OPERATOR(pg_catalog.+) 1;
            END IF;
        END LOOP;
        IF percentage_count OPERATOR(pg_catalog.=) 0 THEN
            RETURN FALSE;
        END IF;
        RETURN total_percentage OPERATOR(pg_catalog.>=) 99.99
           AND total_percentage OPERATOR(pg_catalog.<=) 100.01;
    END IF;
    IF (ownership_data OPERATOR(pg_catalog.->>) 'association_type') OPERATOR(pg_catalog.=) 'joint_ownership' THEN
        RETURN ownership_data OPERATOR(pg_catalog.?) 'joint_owners' AND
               pg_catalog.jsonb_array_length(ownership_data OPERATOR(pg_catalog.->) 'joint_owners') OPERATOR(pg_catalog.>=) 2;
    END IF;
    IF (ownership_data OPERATOR(pg_catalog.->>) 'association_type') OPERATOR(pg_catalog.=) 'individual' THEN
        SELECT pg_catalog.count(*) INTO percentage_count
        FROM pg_catalog.jsonb_object_keys(ownership_data) keys
        WHERE keys OPERATOR(pg_catalog.~) '^[0-9]+$';
        RETURN percentage_count OPERATOR(pg_catalog.<=) 1;
    END IF;
    RETURN TRUE;
END;
$fn$;

COMMENT ON FUNCTION @extschema@.ownership_seed_percentages(pg_catalog.jsonb) IS
    'The seed''s validate_ownership_percentages_precise, its names qualified (may raise on bad shares).';

-- The whole legacy CHECK expression. Where the seed's CHECK raises an error
-- (a share that cannot be cast to numeric, joint_owners not an array), this
-- returns FALSE: the same verdict (the row is rejected), and a query can
-- count the violators without stopping at the first. NULL (which a CHECK
-- lets through) where the seed's expression is NULL.
CREATE OR REPLACE FUNCTION @extschema@.ownership_is_valid_seed(d pg_catalog.jsonb)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
BEGIN
    RETURN pg_catalog.jsonb_typeof(d) OPERATOR(pg_catalog.=) 'object'
       AND d OPERATOR(pg_catalog.?) 'association_type'
       AND (d OPERATOR(pg_catalog.->>) 'association_type') OPERATOR(pg_catalog.=)
           ANY (ARRAY['individual', 'tenants_in_common', 'joint_ownership'])
       AND @extschema@.ownership_seed_percentages(d);
EXCEPTION WHEN others THEN
    RETURN false;
END;
$fn$;

COMMENT ON FUNCTION @extschema@.ownership_is_valid_seed(pg_catalog.jsonb) IS
    'The legacy seed CHECK on an ownership_details document: TRUE or NULL accept, FALSE rejects (errors become FALSE).';

-- Money by owner (the README's "Money by owner").
--
-- Every owner of a document, in the crate's owner order (`Ownership::owners`):
-- tenants in common and an individual by ascending id (jsonb keeps canonical
-- ids in that order already: shorter first, then bytewise), joint owners as
-- listed. For a GIN expression index:
--   CREATE INDEX ON client_products USING gin (@extschema@.ownership_owner_ids(ownership_details));
--   SELECT id FROM client_products WHERE @extschema@.ownership_owner_ids(ownership_details) @> ARRAY[123::bigint];
-- A document that breaks the strict rules gets the ids it names (keys of
-- canonical positive ids, integer elements of joint_owners), never an error.
CREATE OR REPLACE FUNCTION @extschema@.ownership_owner_ids(d pg_catalog.jsonb)
RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
DECLARE
    ids bigint[] := '{}';
    k   pg_catalog.text;
    e   pg_catalog.jsonb;
BEGIN
    IF pg_catalog.jsonb_typeof(d) OPERATOR(pg_catalog.<>) 'object' THEN
        RETURN ids;
    END IF;
    IF (d OPERATOR(pg_catalog.->>) 'association_type') OPERATOR(pg_catalog.=) 'joint_ownership' THEN
        IF pg_catalog.jsonb_typeof(d OPERATOR(pg_catalog.->) 'joint_owners') OPERATOR(pg_catalog.=) 'array' THEN
            FOR e IN SELECT pg_catalog.jsonb_array_elements(d OPERATOR(pg_catalog.->) 'joint_owners') LOOP
                IF pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.=) 'number'
                   AND e::numeric OPERATOR(pg_catalog.=) pg_catalog.trunc(e::numeric)
                   AND e::numeric OPERATOR(pg_catalog.>=) 1
                   AND e::numeric OPERATOR(pg_catalog.<=) 9223372036854775807 THEN
                    ids := pg_catalog.array_append(ids, e::numeric::bigint);
                END IF;
            END LOOP;
        END IF;
        RETURN ids;
    END IF;
    FOR k IN SELECT pg_catalog.jsonb_object_keys(d) LOOP
        IF k OPERATOR(pg_catalog.~) '^[1-9][0-9]{0,18}$'
           AND k::numeric OPERATOR(pg_catalog.<=) 9223372036854775807 THEN
            ids := pg_catalog.array_append(ids, k::bigint);
        END IF;
    END LOOP;
    RETURN ids;
END;
$fn$;

COMMENT ON FUNCTION @extschema@.ownership_owner_ids(pg_catalog.jsonb) IS
    'Every owner id of an ownership_details document, in the coownership crate''s owner order.';

-- One owner's percentage: an individual 100.00, a tenant in common their
-- share (scale 2), a joint owner 100 / n (joint owners are weighed equally,
-- as in ownership_apportion; at PostgreSQL's division precision, e.g.
-- 33.3333333333333333 for three). NULL when `owner` is not an owner.
CREATE OR REPLACE FUNCTION @extschema@.ownership_share(d pg_catalog.jsonb, owner bigint)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
DECLARE
    ids  bigint[];
    v    pg_catalog.jsonb;
    kind pg_catalog.text;
BEGIN
    IF pg_catalog.jsonb_typeof(d) OPERATOR(pg_catalog.<>) 'object' THEN
        RETURN NULL;
    END IF;
    kind := d OPERATOR(pg_catalog.->>) 'association_type';
    IF kind OPERATOR(pg_catalog.=) 'joint_ownership' THEN
        ids := @extschema@.ownership_owner_ids(d);
        IF owner OPERATOR(pg_catalog.=) ANY (ids) THEN
            RETURN 100::numeric OPERATOR(pg_catalog./) pg_catalog.cardinality(ids);
        END IF;
        RETURN NULL;
    ELSIF kind OPERATOR(pg_catalog.=) 'individual' THEN
        IF d OPERATOR(pg_catalog.?) owner::pg_catalog.text THEN
            RETURN 100.00;
        END IF;
        RETURN NULL;
    END IF;
    v := d OPERATOR(pg_catalog.->) owner::pg_catalog.text;
    IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'number' THEN
        RETURN pg_catalog.round(v::numeric, 2);
    END IF;
    RETURN NULL;
END;
$fn$;

COMMENT ON FUNCTION @extschema@.ownership_share(pg_catalog.jsonb, bigint) IS
    'An owner''s percentage in an ownership_details document; NULL when not an owner.';

-- The work of ownership_apportion (a SQL function below, because PL/pgSQL
-- cannot name an input and an output column both `amount`). The algorithm
-- of the Rust `apportion`, step for step: the amount in minor units; each
-- owner's pro-rata part rounded down; the units left over (fewer than the
-- owners) one each to the largest remainders, ties to the earlier owner; a
-- negative amount gives the negated parts of the positive one. The owners
-- and weights come from path expressions, not a query per document.
CREATE OR REPLACE FUNCTION @extschema@.ownership_apportion_parts(d pg_catalog.jsonb, total numeric, decimals integer)
RETURNS TABLE(owner_id bigint, part numeric)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
DECLARE
    codes    pg_catalog.text[];
    owners   pg_catalog.jsonb;
    weights  numeric[];
    floors   numeric[];
    rems     numeric[];
    w_sum    numeric := 0;
    units    numeric;
    given    numeric := 0;
    spare    integer;
    n        integer;
    best     integer;
    scaled   numeric;
    kind     pg_catalog.text;
    rest     pg_catalog.text;
    tail     pg_catalog.text;
    v        numeric;
    fast     boolean := false;
    step     numeric;
    ids      bigint[];
    pieces   pg_catalog.text[];
    key      pg_catalog.text;
    sign     pg_catalog.text := '';
BEGIN
    IF d IS NULL OR total IS NULL OR decimals IS NULL THEN
        RETURN;
    END IF;
    IF decimals OPERATOR(pg_catalog.<) 0 OR decimals OPERATOR(pg_catalog.>) 28 THEN
        RAISE EXCEPTION 'decimals_out_of_range: % decimal places requested, from 0 to 28 are supported', decimals
            USING ERRCODE = '22023';
    END IF;
    -- NaN, and from PostgreSQL 14 on, the infinities: the numbers without a
    -- scale (13's numeric has no 'Infinity' to compare with).
    IF pg_catalog.scale(total) IS NULL THEN
        RAISE EXCEPTION 'amount_not_finite: amount % is not a finite number', total
            USING ERRCODE = '22023', HINT = 'only finite amounts can be apportioned';
    END IF;
    IF pg_catalog.scale(total) OPERATOR(pg_catalog.>) decimals
       AND total OPERATOR(pg_catalog.<>) pg_catalog.round(total, decimals) THEN
        RAISE EXCEPTION 'amount_too_precise: amount % has more than % decimal places', total, decimals
            USING ERRCODE = '22023', HINT = 'amounts are never rounded: round it first, or pass more decimals';
    END IF;
    IF total OPERATOR(pg_catalog.<) 0 THEN
        sign := '-';
    END IF;
    -- Below 10^9 at up to 19 places, the amount has fewer than 2^96 minor units.
    IF pg_catalog.abs(total) OPERATOR(pg_catalog.>=) 1000000000 OR decimals OPERATOR(pg_catalog.>) 19 THEN
        units := pg_catalog.trunc(pg_catalog.abs(total) OPERATOR(pg_catalog.*) pg_catalog.power(10::numeric, decimals));
        IF units OPERATOR(pg_catalog.>=) 79228162514264337593543950336 THEN -- 2^96, as a Rust Decimal
            -- The document's own errors come first, as in Rust.
            IF NOT @extschema@.ownership_is_valid_strict(d) THEN
                RAISE EXCEPTION 'invalid_ownership: the document breaks the strict rules: %',
                    pg_catalog.array_to_string(@extschema@.ownership_strict_violations(d), ', ')
                    USING ERRCODE = '22023';
            END IF;
            RAISE EXCEPTION 'amount_too_large: amount % is too large to apportion at % decimal places', total, decimals
                USING ERRCODE = '22003';
        END IF;
    END IF;
    kind := d OPERATOR(pg_catalog.->>) 'association_type';
    IF kind OPERATOR(pg_catalog.=) 'individual' OR kind OPERATOR(pg_catalog.=) 'tenants_in_common' THEN
        rest := (d OPERATOR(pg_catalog.-) 'association_type')::pg_catalog.text;
    END IF;
    -- The common individual document, {"id": 100} once association_type is
    -- removed (ownership_is_valid_strict's test): one owner takes the whole
    -- amount, at scale `decimals`.
    IF kind OPERATOR(pg_catalog.=) 'individual'
       AND rest OPERATOR(pg_catalog.~) '^[{]"[1-9][0-9]*": 100([.]0*)?[}]$'
       AND pg_catalog.strpos(rest, '":') OPERATOR(pg_catalog.<=) 21 THEN
        owner_id := pg_catalog.substr(rest, 3, pg_catalog.strpos(rest, '":') OPERATOR(pg_catalog.-) 3)::bigint;
        part := pg_catalog.round(total, decimals);
        RETURN NEXT;
        RETURN;
    END IF;
    IF units IS NULL THEN
        -- (Currencies have two places: that power of ten needs no computing.)
        IF decimals OPERATOR(pg_catalog.=) 2 THEN
            units := pg_catalog.trunc(pg_catalog.abs(total) OPERATOR(pg_catalog.*) 100);
        ELSE
            units := pg_catalog.trunc(pg_catalog.abs(total) OPERATOR(pg_catalog.*) pg_catalog.power(10::numeric, decimals));
        END IF;
    END IF;
    -- The common tenants-in-common document: ownership_is_valid_strict's
    -- test, made here on the way (the ids in order, each of at most 18
    -- digits; every share above 0, at most 100, with at most two decimals
    -- that are not zero; a total of exactly 100), with each owner's part
    -- computed in the same pass (the weights then total 10,000 hundredths).
    -- The ids are read from the printed text, which the pattern has shown
    -- to be {"id": share, "id": share}: split at the quotes, the ids are the
    -- even pieces. Anything else takes the full check, then the general path.
    IF kind OPERATOR(pg_catalog.=) 'tenants_in_common'
       AND rest OPERATOR(pg_catalog.~) '^[{]"[1-9][0-9.":, ]*[}]$'
       AND pg_catalog.strpos(rest, '"0') OPERATOR(pg_catalog.=) 0 THEN
        pieces := pg_catalog.string_to_array(rest, '"');
        owners := pg_catalog.jsonb_path_query_array(d OPERATOR(pg_catalog.-) 'association_type',
            '$.*'::pg_catalog.jsonpath);
        n := pg_catalog.jsonb_array_length(owners);
        -- Only the characters of ids and numbers, no string value (each
        -- quote pairs up with a key), no id starting with 0.
        IF pg_catalog.cardinality(pieces) OPERATOR(pg_catalog.=) ((2 OPERATOR(pg_catalog.*) n) OPERATOR(pg_catalog.+) 1) THEN
            IF n OPERATOR(pg_catalog.>=) 2 AND n OPERATOR(pg_catalog.<=) 10000 THEN
                fast := true;
                ids := pg_catalog.array_fill(0::bigint, ARRAY[n]);
                floors := pg_catalog.array_fill(0::numeric, ARRAY[n]);
                rems := floors;
                FOR i IN 1 .. n LOOP
                    v := (owners OPERATOR(pg_catalog.->) (i OPERATOR(pg_catalog.-) 1))::numeric;
                    IF v OPERATOR(pg_catalog.<=) 0 OR v OPERATOR(pg_catalog.>) 100
                       OR pg_catalog.scale(v) OPERATOR(pg_catalog.>) 2 AND v OPERATOR(pg_catalog.<>) pg_catalog.round(v, 2) THEN
                        fast := false;
                        EXIT;
                    END IF;
                    -- An id: digits only, at most 18.
                    key := pieces[2 OPERATOR(pg_catalog.*) i];
                    IF pg_catalog.ltrim(key, '0123456789') OPERATOR(pg_catalog.<>) ''
                       OR pg_catalog.length(key) OPERATOR(pg_catalog.>) 18 THEN
                        fast := false;
                        EXIT;
                    END IF;
                    ids[i] := key::bigint;
                    w_sum := w_sum OPERATOR(pg_catalog.+) v;
                    scaled := units OPERATOR(pg_catalog.*) v OPERATOR(pg_catalog.*) 100;
                    floors[i] := pg_catalog.div(scaled, 10000);
                    rems[i] := scaled OPERATOR(pg_catalog.-) (floors[i] OPERATOR(pg_catalog.*) 10000);
                    given := given OPERATOR(pg_catalog.+) floors[i];
                END LOOP;
                fast := fast AND w_sum OPERATOR(pg_catalog.=) 100
                        AND pg_catalog.octet_length(rest) OPERATOR(pg_catalog.<=) 524200;
            END IF;
        END IF;
    END IF;
    IF NOT fast THEN
        IF NOT @extschema@.ownership_is_valid_strict(d) THEN
            RAISE EXCEPTION 'invalid_ownership: the document breaks the strict rules: %',
                pg_catalog.array_to_string(@extschema@.ownership_strict_violations(d), ', ')
                USING ERRCODE = '22023';
        END IF;
        w_sum := 0;
        given := 0;
        IF kind OPERATOR(pg_catalog.=) 'individual' THEN
            owner_id := pg_catalog.jsonb_path_query_first(d,
                '$.keyvalue() ? (@.key like_regex "^[0-9]+$").key'::pg_catalog.jsonpath)
                OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[];
            part := pg_catalog.round(total, decimals);
            RETURN NEXT;
            RETURN;
        ELSIF kind OPERATOR(pg_catalog.=) 'joint_ownership' THEN
            owners := d OPERATOR(pg_catalog.->) 'joint_owners';
            n := pg_catalog.jsonb_array_length(owners);
            ids := pg_catalog.array_fill(0::bigint, ARRAY[n]);
            FOR i IN 1 .. n LOOP
                ids[i] := (owners OPERATOR(pg_catalog.->) (i OPERATOR(pg_catalog.-) 1))::numeric::bigint;
            END LOOP;
            weights := pg_catalog.array_fill(1::numeric, ARRAY[n]);
            w_sum := n;
        ELSE
            -- Canonical ids: jsonb's key order is ascending id order.
            owners := pg_catalog.jsonb_path_query_array(d,
                '$.keyvalue() ? (@.key like_regex "^[0-9]+$")'::pg_catalog.jsonpath);
            n := pg_catalog.jsonb_array_length(owners);
            ids := pg_catalog.array_fill(0::bigint, ARRAY[n]);
            weights := pg_catalog.array_fill(0::numeric, ARRAY[n]);
            FOR i IN 1 .. n LOOP
                ids[i] := (owners OPERATOR(pg_catalog.->) (i OPERATOR(pg_catalog.-) 1)
                           OPERATOR(pg_catalog.->>) 'key')::bigint;
                weights[i] := (owners OPERATOR(pg_catalog.->) (i OPERATOR(pg_catalog.-) 1)
                               OPERATOR(pg_catalog.->) 'value')::numeric OPERATOR(pg_catalog.*) 100;
                w_sum := w_sum OPERATOR(pg_catalog.+) weights[i];
            END LOOP;
        END IF;
        floors := weights;
        rems := weights;
        FOR i IN 1 .. n LOOP
            scaled := units OPERATOR(pg_catalog.*) weights[i];
            floors[i] := pg_catalog.div(scaled, w_sum);
            rems[i] := pg_catalog.mod(scaled, w_sum);
            given := given OPERATOR(pg_catalog.+) floors[i];
        END LOOP;
    END IF;
    spare := (units OPERATOR(pg_catalog.-) given)::integer;
    IF spare OPERATOR(pg_catalog.>) 0 AND n OPERATOR(pg_catalog.<=) 64 THEN
        FOR _ IN 1 .. spare LOOP
            best := 1;
            FOR i IN 2 .. n LOOP
                IF rems[i] OPERATOR(pg_catalog.>) rems[best] THEN
                    best := i;
                END IF;
            END LOOP;
            floors[best] := floors[best] OPERATOR(pg_catalog.+) 1;
            rems[best] := -1;
        END LOOP;
    ELSIF spare OPERATOR(pg_catalog.>) 0 THEN
        -- ORDER BY finds its operators through the type's default btree
        -- operator class, not the search_path.
        FOR best IN
            SELECT r.i FROM pg_catalog.unnest(rems) WITH ORDINALITY AS r(rem, i)
            ORDER BY r.rem DESC, r.i LIMIT spare
        LOOP
            floors[best] := floors[best] OPERATOR(pg_catalog.+) 1;
        END LOOP;
    END IF;
    -- Minor units to a decimal of scale `decimals`, exactly: times
    -- 10^-decimals read from text at that scale (a division would round
    -- past 16 digits; numeric products are exact).
    IF decimals OPERATOR(pg_catalog.=) 2 AND sign OPERATOR(pg_catalog.=) '' THEN
        step := 0.01;
    ELSE
        step := (sign OPERATOR(pg_catalog.||) '1e-' OPERATOR(pg_catalog.||) decimals::pg_catalog.text)::numeric;
    END IF;
    FOR i IN 1 .. n LOOP
        owner_id := ids[i];
        part := floors[i] OPERATOR(pg_catalog.*) step;
        RETURN NEXT;
    END LOOP;
END;
$fn$;

-- Splits `amount` among the owners of `doc` to `decimals` places, exactly as
-- the Rust `apportion`: the same parts, in the same (owner) order, with
-- scale `decimals`, adding up to `amount`. Errors (SQLSTATE 22023 unless
-- said), each message starting with the rule:
--   decimals_out_of_range  decimals outside 0..28
--   amount_not_finite      NaN or an infinity
--   amount_too_precise     more decimal places than `decimals` (never rounded)
--   invalid_ownership      the document breaks the strict rules (the codes follow)
--   amount_too_large       (22003) the amount in minor units needs more than 96 bits
-- No rows for a NULL document, amount or decimals.
CREATE OR REPLACE FUNCTION @extschema@.ownership_apportion(doc pg_catalog.jsonb, amount numeric, decimals integer DEFAULT 2)
RETURNS TABLE(owner_id bigint, amount numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT p.owner_id, p.part FROM @extschema@.ownership_apportion_parts($1, $2, $3) AS p
$fn$;

COMMENT ON FUNCTION @extschema@.ownership_apportion(pg_catalog.jsonb, numeric, integer) IS
    'Each owner''s part of an amount, penny-exact: the coownership crate''s apportion.';
