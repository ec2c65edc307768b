-- ownership: the rules for `ownership_details`, in SQL.
--
-- Shipped with the `coownership` crate (DESIGN.md §2): the database enforces
-- the same rules as the application, and returns the same violation codes as
-- the Rust `ViolationCode`s. Plain SQL and PL/pgSQL, for PostgreSQL 13 and
-- later. Idempotent: running it again installs this version over any earlier
-- one (`coownership constrain` does so and reports the versions).
--
-- What SQL cannot see and so does not check: duplicate keys (jsonb has
-- already kept only the last value) and the size limits on the document's
-- text (bytes and nesting depth). Non-ASCII digits in keys are left to the
-- Rust side (malformed_owner_key).
--
--   ownership_sql_version()              -> integer  this file's revision
--   ownership_strict_violations(d jsonb) -> text[]   codes, in check order; '{}' when valid
--   ownership_is_valid_strict(d jsonb)   -> boolean  for a CHECK constraint (strict rules)
--   ownership_is_valid_seed(d jsonb)     -> boolean  the legacy CHECK, for a CHECK constraint (seed rules)
--   ownership_owner_ids(d jsonb)         -> bigint[] every owner, in the crate's owner order
--   ownership_share(d jsonb, owner bigint) -> numeric that owner's percentage; NULL if not an owner
--   ownership_apportion(doc jsonb, amount numeric, decimals integer DEFAULT 2)
--                                        -> TABLE(owner_id bigint, amount numeric)
--                                           exactly the Rust `apportion`: parts that add up to the amount

-- The revision of the shipped functions; `coownership::sql::VERSION`.
-- Revision 1 had no such function; 2 added the seed's CHECK; 3 the money
-- functions.
CREATE OR REPLACE FUNCTION ownership_sql_version()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$ SELECT 3 $fn$;

COMMENT ON FUNCTION ownership_sql_version() IS
    'The revision of the ownership_* functions shipped by the coownership crate.';

-- One pass over the keys (jsonb_each once per document); the rest is plain
-- expressions, which PL/pgSQL evaluates without the query executor.
CREATE OR REPLACE FUNCTION ownership_strict_violations(d jsonb)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
DECLARE
    codes     text[] := '{}';
    kind      text;            -- the association type, when it is valid
    joint     jsonb;
    k         text;
    v         jsonb;
    n         numeric;
    owners    integer := 0;    -- keys matching ^[0-9]+$
    shares_ok boolean := true; -- every owner key canonical with a valid share
    total     numeric := 0;    -- the sum of the valid shares
    len       integer;
    e         jsonb;
    ids       numeric[] := '{}';
BEGIN
    IF jsonb_typeof(d) <> 'object' THEN
        RETURN ARRAY['not_an_object'];
    END IF;
    IF NOT d ? 'association_type' THEN
        codes := ARRAY['missing_association_type'];
    ELSIF jsonb_typeof(d -> 'association_type') = 'string'
          AND d ->> 'association_type' IN ('individual', 'tenants_in_common', 'joint_ownership') THEN
        kind := d ->> 'association_type';
    ELSE
        codes := ARRAY['invalid_association_type'];
    END IF;
    joint := d -> 'joint_owners';

    FOR k, v IN SELECT key, value FROM jsonb_each(d) LOOP
        IF k = 'association_type' OR k = 'joint_owners' THEN
            CONTINUE;
        END IF;
        IF k !~ '^[0-9]+$' THEN
            -- Metadata, unless it looks like an owner id that is not plain
            -- digits (signs, spaces, separators): the legacy rules would
            -- silently ignore that owner.
            IF k ~ '^[[:space:]+,.-]*[0-9][[:space:]0-9+,.-]*$' THEN
                codes := codes || 'malformed_owner_key'::text;
            END IF;
            CONTINUE;
        END IF;
        -- An owner key (^[0-9]+$, as in the legacy rules): it must be a
        -- canonical positive BIGINT id.
        owners := owners + 1;
        IF left(k, 1) = '0' OR length(k) > 19 OR (length(k) = 19 AND k > '9223372036854775807') THEN
            codes := codes || 'non_canonical_owner_key'::text;
            shares_ok := false;
        END IF;
        IF kind = 'joint_ownership' THEN
            codes := codes || 'unexpected_share'::text;
        ELSIF jsonb_typeof(v) <> 'number' THEN
            codes := codes || 'share_not_a_number'::text;
            shares_ok := false;
        ELSE
            n := v::numeric;
            IF n <= 0 THEN
                codes := codes || 'share_not_positive'::text;
                shares_ok := false;
            ELSIF n > 100 THEN
                codes := codes || 'share_above_100'::text;
                shares_ok := false;
            ELSIF n <> round(n, 2) THEN
                codes := codes || 'share_too_precise'::text;
                shares_ok := false;
            ELSE
                total := total + n;
            END IF;
        END IF;
    END LOOP;
    IF owners > 10000 THEN
        codes := codes || 'too_many_owners'::text;
    END IF;

    IF kind = 'individual' THEN
        IF joint IS NOT NULL THEN
            codes := codes || 'unexpected_joint_owners'::text;
        END IF;
        IF owners <> 1 THEN
            codes := codes || 'individual_owner_count'::text;
        ELSIF shares_ok AND total <> 100 THEN
            codes := codes || 'individual_share_not_100'::text;
        END IF;
    ELSIF kind = 'tenants_in_common' THEN
        IF joint IS NOT NULL THEN
            codes := codes || 'unexpected_joint_owners'::text;
        END IF;
        IF owners < 2 THEN
            codes := codes || 'too_few_owners'::text;
        END IF;
        IF owners >= 1 AND shares_ok AND total <> 100 THEN
            codes := codes || 'total_not_100'::text;
        END IF;
    ELSIF kind = 'joint_ownership' THEN
        IF joint IS NULL THEN
            codes := codes || 'missing_joint_owners'::text;
        ELSIF jsonb_typeof(joint) <> 'array' THEN
            codes := codes || 'joint_owners_not_array'::text;
        ELSE
            len := jsonb_array_length(joint);
            IF len > 10000 THEN
                codes := codes || 'too_many_owners'::text;
            END IF;
            -- Positive BIGINT ids, judged by value (2.0 is owner 2), each once.
            FOR i IN 0 .. len - 1 LOOP
                e := joint -> i;
                IF jsonb_typeof(e) = 'number'
                   AND e::numeric = trunc(e::numeric)
                   AND e::numeric BETWEEN 1 AND 9223372036854775807 THEN
                    IF e::numeric = ANY (ids) THEN
                        codes := codes || 'duplicate_joint_owner'::text;
                    ELSE
                        ids := ids || e::numeric;
                    END IF;
                ELSE
                    codes := codes || 'invalid_joint_owner'::text;
                END IF;
            END LOOP;
            IF len < 2 THEN
                codes := codes || 'too_few_owners'::text;
            END IF;
        END IF;
    END IF;
    RETURN codes;
END;
$fn$;

COMMENT ON FUNCTION ownership_strict_violations(jsonb) IS
    'Violation codes of an ownership_details document under the strict rules of the coownership crate; empty when valid.';

CREATE OR REPLACE FUNCTION ownership_is_valid_strict(d jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT cardinality(ownership_strict_violations(d)) = 0
$fn$;

COMMENT ON FUNCTION ownership_is_valid_strict(jsonb) IS
    'TRUE when an ownership_details document follows the strict rules of the coownership crate (NULL for NULL).';

-- The seed's legacy CHECK (`valid_product_ownership_details_precise` with
-- `validate_ownership_percentages_precise`, DESIGN.md §2 "seed"), under our
-- own names, so that `coownership constrain --rules seed` can put it on the
-- table as one shipped rule. The body of ownership_seed_percentages is the
-- seed's function, unchanged.
CREATE OR REPLACE FUNCTION ownership_seed_percentages(ownership_data jsonb)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
DECLARE
    total_percentage NUMERIC := 0;
    key TEXT;
    value NUMERIC;
    percentage_count INTEGER := 0;
BEGIN
    IF NOT (ownership_data ? 'association_type') THEN
        RETURN TRUE;
    END IF;
    IF ownership_data->>'association_type' = 'tenants_in_common' THEN
        FOR key IN SELECT jsonb_object_keys(ownership_data)
        LOOP
            IF key ~ '^[0-9]+$' THEN
                value := ROUND((ownership_data->key)::NUMERIC, 2);
                IF value < 0 OR value > 100 THEN
                    RETURN FALSE;
                END IF;
                total_percentage := total_percentage + value;
                percentage_count := percentage_count + 1;
            END IF;
        END LOOP;
        IF percentage_count = 0 THEN
            RETURN FALSE;
        END IF;
        RETURN total_percentage BETWEEN 99.99 AND 100.01;
    END IF;
    IF ownership_data->>'association_type' = 'joint_ownership' THEN
        RETURN ownership_data ? 'joint_owners' AND
               jsonb_array_length(ownership_data->'joint_owners') >= 2;
    END IF;
    IF ownership_data->>'association_type' = 'individual' THEN
        SELECT COUNT(*) INTO percentage_count
        FROM jsonb_object_keys(ownership_data) keys
        WHERE keys ~ '^[0-9]+$';
        RETURN percentage_count <= 1;
    END IF;
    RETURN TRUE;
END;
$fn$;

COMMENT ON FUNCTION ownership_seed_percentages(jsonb) IS
    'The seed''s validate_ownership_percentages_precise, unchanged (may raise on bad shares).';

-- The whole legacy CHECK expression. Where the seed's CHECK raises an error
-- (a share that cannot be cast to numeric, joint_owners not an array), this
-- returns FALSE: the same verdict (the row is rejected), and a query can
-- count the violators without stopping at the first. NULL (which a CHECK
-- lets through) where the seed's expression is NULL.
CREATE OR REPLACE FUNCTION ownership_is_valid_seed(d jsonb)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
BEGIN
    RETURN jsonb_typeof(d) = 'object'
       AND d ? 'association_type'
       AND d->>'association_type' IN ('individual', 'tenants_in_common', 'joint_ownership')
       AND ownership_seed_percentages(d);
EXCEPTION WHEN others THEN
    RETURN false;
END;
$fn$;

COMMENT ON FUNCTION ownership_is_valid_seed(jsonb) IS
    'The legacy seed CHECK on an ownership_details document: TRUE or NULL accept, FALSE rejects (errors become FALSE).';

-- Money by owner (DESIGN.md §9).
--
-- Every owner of a document, in the crate's owner order (`Ownership::owners`):
-- tenants in common and an individual by ascending id (jsonb keeps canonical
-- ids in that order already: shorter first, then bytewise), joint owners as
-- listed. For a GIN expression index:
--   CREATE INDEX ON client_products USING gin (ownership_owner_ids(ownership_details));
--   SELECT id FROM client_products WHERE ownership_owner_ids(ownership_details) @> ARRAY[123::bigint];
-- A document that breaks the strict rules gets the ids it names (keys of
-- canonical positive ids, integer elements of joint_owners), never an error.
CREATE OR REPLACE FUNCTION ownership_owner_ids(d jsonb)
RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
DECLARE
    ids bigint[] := '{}';
    k   text;
    e   jsonb;
BEGIN
    IF jsonb_typeof(d) <> 'object' THEN
        RETURN ids;
    END IF;
    IF d ->> 'association_type' = 'joint_ownership' THEN
        IF jsonb_typeof(d -> 'joint_owners') = 'array' THEN
            FOR e IN SELECT jsonb_array_elements(d -> 'joint_owners') LOOP
                IF jsonb_typeof(e) = 'number'
                   AND e::numeric = trunc(e::numeric)
                   AND e::numeric BETWEEN 1 AND 9223372036854775807 THEN
                    ids := ids || e::numeric::bigint;
                END IF;
            END LOOP;
        END IF;
        RETURN ids;
    END IF;
    FOR k IN SELECT jsonb_object_keys(d) LOOP
        IF k ~ '^[1-9][0-9]{0,18}$' AND k::numeric <= 9223372036854775807 THEN
            ids := ids || k::bigint;
        END IF;
    END LOOP;
    RETURN ids;
END;
$fn$;

COMMENT ON FUNCTION ownership_owner_ids(jsonb) IS
    'Every owner id of an ownership_details document, in the coownership crate''s owner order.';

-- One owner's percentage: an individual 100.00, a tenant in common their
-- share (scale 2), a joint owner 100 / n (joint owners are weighed equally,
-- as in ownership_apportion; at PostgreSQL's division precision, e.g.
-- 33.3333333333333333 for three). NULL when `owner` is not an owner.
CREATE OR REPLACE FUNCTION ownership_share(d jsonb, owner bigint)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
DECLARE
    ids bigint[];
    v   jsonb;
BEGIN
    IF jsonb_typeof(d) <> 'object' THEN
        RETURN NULL;
    END IF;
    CASE d ->> 'association_type'
    WHEN 'joint_ownership' THEN
        ids := ownership_owner_ids(d);
        IF owner = ANY (ids) THEN
            RETURN 100::numeric / cardinality(ids);
        END IF;
        RETURN NULL;
    WHEN 'individual' THEN
        IF d ? owner::text THEN
            RETURN 100.00;
        END IF;
        RETURN NULL;
    ELSE
        v := d -> owner::text;
        IF jsonb_typeof(v) = 'number' THEN
            RETURN round(v::numeric, 2);
        END IF;
        RETURN NULL;
    END CASE;
END;
$fn$;

COMMENT ON FUNCTION ownership_share(jsonb, bigint) IS
    'An owner''s percentage in an ownership_details document; NULL when not an owner.';

-- The work of ownership_apportion (a SQL function below, because PL/pgSQL
-- cannot name an input and an output column both `amount`). The algorithm
-- of the Rust `apportion`, step for step: the amount in minor units; each
-- owner's pro-rata part rounded down; the units left over (fewer than the
-- owners) one each to the largest remainders, ties to the earlier owner; a
-- negative amount gives the negated parts of the positive one.
CREATE OR REPLACE FUNCTION ownership_apportion_parts(d jsonb, total numeric, decimals integer)
RETURNS TABLE(owner_id bigint, part numeric)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
DECLARE
    codes    text[];
    ids      bigint[] := '{}';
    weights  numeric[] := '{}';
    floors   numeric[] := '{}';
    rems     numeric[] := '{}';
    w_sum    numeric := 0;
    units    numeric;
    given    numeric := 0;
    spare    integer;
    n        integer;
    best     integer;
    scaled   numeric;
    kind     text;
    negative boolean;
    k        text;
    v        jsonb;
    e        jsonb;
BEGIN
    IF d IS NULL OR total IS NULL OR decimals IS NULL THEN
        RETURN;
    END IF;
    IF decimals < 0 OR decimals > 28 THEN
        RAISE EXCEPTION 'decimals_out_of_range: % decimal places requested, from 0 to 28 are supported', decimals
            USING ERRCODE = '22023';
    END IF;
    IF scale(trim_scale(total)) > decimals THEN
        RAISE EXCEPTION 'amount_too_precise: amount % has more than % decimal places', total, decimals
            USING ERRCODE = '22023', HINT = 'amounts are never rounded: round it first, or pass more decimals';
    END IF;
    codes := ownership_strict_violations(d);
    IF cardinality(codes) > 0 THEN
        RAISE EXCEPTION 'invalid_ownership: the document breaks the strict rules: %', array_to_string(codes, ', ')
            USING ERRCODE = '22023';
    END IF;
    negative := total < 0;
    units := trunc(abs(total) * 10::numeric ^ decimals);
    IF units >= 79228162514264337593543950336 THEN -- 2^96, as a Rust Decimal
        RAISE EXCEPTION 'amount_too_large: amount % is too large to apportion at % decimal places', total, decimals
            USING ERRCODE = '22003';
    END IF;
    kind := d ->> 'association_type';
    IF kind = 'individual' THEN
        -- One owner takes the whole amount, at scale `decimals`.
        FOR k IN SELECT jsonb_object_keys(d) LOOP
            IF k ~ '^[0-9]+$' THEN
                owner_id := k::bigint;
                part := round(total, decimals);
                RETURN NEXT;
                RETURN;
            END IF;
        END LOOP;
    END IF;
    IF kind = 'joint_ownership' THEN
        FOR e IN SELECT jsonb_array_elements(d -> 'joint_owners') LOOP
            ids := ids || e::numeric::bigint;
            weights := weights || 1::numeric;
        END LOOP;
    ELSE
        -- Canonical ids: jsonb's key order is ascending id order.
        FOR k, v IN SELECT * FROM jsonb_each(d) LOOP
            IF k ~ '^[0-9]+$' THEN
                ids := ids || k::bigint;
                weights := weights || v::numeric * 100;
            END IF;
        END LOOP;
    END IF;
    n := cardinality(ids);
    FOR i IN 1 .. n LOOP
        w_sum := w_sum + weights[i];
    END LOOP;
    FOR i IN 1 .. n LOOP
        scaled := units * weights[i];
        floors := floors || div(scaled, w_sum);
        rems := rems || mod(scaled, w_sum);
        given := given + floors[i];
    END LOOP;
    spare := (units - given)::integer;
    IF spare > 0 AND n <= 64 THEN
        FOR _ IN 1 .. spare LOOP
            best := 1;
            FOR i IN 2 .. n LOOP
                IF rems[i] > rems[best] THEN
                    best := i;
                END IF;
            END LOOP;
            floors[best] := floors[best] + 1;
            rems[best] := -1;
        END LOOP;
    ELSIF spare > 0 THEN
        FOR best IN
            SELECT r.i FROM unnest(rems) WITH ORDINALITY AS r(rem, i)
            ORDER BY r.rem DESC, r.i LIMIT spare
        LOOP
            floors[best] := floors[best] + 1;
        END LOOP;
    END IF;
    FOR i IN 1 .. n LOOP
        owner_id := ids[i];
        -- Minor units to a decimal of scale `decimals`, exactly: numeric
        -- input with an exponent (a division by 10^decimals would round past
        -- 16 digits).
        part := (CASE WHEN negative THEN '-' ELSE '' END || floors[i]::text || 'e-' || decimals)::numeric;
        RETURN NEXT;
    END LOOP;
END;
$fn$;

-- Splits `amount` among the owners of `doc` to `decimals` places, exactly as
-- the Rust `apportion`: the same parts, in the same (owner) order, with
-- scale `decimals`, adding up to `amount`. Errors (SQLSTATE 22023 unless
-- said), each message starting with the rule:
--   decimals_out_of_range  decimals outside 0..28
--   amount_too_precise     more decimal places than `decimals` (never rounded)
--   invalid_ownership      the document breaks the strict rules (the codes follow)
--   amount_too_large       (22003) the amount in minor units needs more than 96 bits
-- No rows for a NULL document, amount or decimals.
CREATE OR REPLACE FUNCTION ownership_apportion(doc jsonb, amount numeric, decimals integer DEFAULT 2)
RETURNS TABLE(owner_id bigint, amount numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT p.owner_id, p.part FROM ownership_apportion_parts($1, $2, $3) AS p
$fn$;

COMMENT ON FUNCTION ownership_apportion(jsonb, numeric, integer) IS
    'Each owner''s part of an amount, penny-exact: the coownership crate''s apportion.';
