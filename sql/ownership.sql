-- ownership: the strict rules for `ownership_details`, in SQL.
--
-- Shipped with the `ownership` crate (DESIGN.md §2 "strict"): the database
-- enforces the same rule as the application, and returns the same violation
-- codes as the Rust `ViolationCode`s. Idempotent: safe to run again.
--
-- What SQL cannot see and so does not check: duplicate keys (jsonb has
-- already kept only the last value) and the size limits on the document's
-- text (bytes and nesting depth). Non-ASCII digits in keys are left to the
-- Rust side (malformed_owner_key).
--
--   ownership_strict_violations(d jsonb) -> text[]   codes, in check order; '{}' when valid
--   ownership_is_valid_strict(d jsonb)   -> boolean  for a CHECK constraint

CREATE OR REPLACE FUNCTION ownership_strict_violations(d jsonb)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
DECLARE
    codes       text[] := '{}';
    assoc       jsonb;
    kind        text;            -- the association type, when it is valid
    joint       jsonb;
    k           text;
    v           jsonb;
    n           numeric;
    owner_count integer := 0;
    shares_ok   boolean := true;
    total       numeric := 0;
    len         integer;
    e           jsonb;
    ids         numeric[] := '{}';
BEGIN
    IF jsonb_typeof(d) <> 'object' THEN
        RETURN ARRAY['not_an_object'];
    END IF;

    assoc := d -> 'association_type';
    IF assoc IS NULL THEN
        codes := codes || 'missing_association_type'::text;
    ELSIF jsonb_typeof(assoc) = 'string'
          AND assoc #>> '{}' IN ('individual', 'tenants_in_common', 'joint_ownership') THEN
        kind := assoc #>> '{}';
    ELSE
        codes := codes || 'invalid_association_type'::text;
    END IF;
    joint := d -> 'joint_owners';

    -- Keys that look like owner ids but are not plain digits (ASCII forms:
    -- signs, spaces, separators); the legacy rules would ignore them.
    FOR k IN SELECT key FROM jsonb_object_keys(d) AS key
             WHERE key !~ '^[0-9]+$' AND key ~ '^[[:space:]+,.-]*[0-9][[:space:]0-9+,.-]*$' LOOP
        codes := codes || 'malformed_owner_key'::text;
    END LOOP;

    -- Owner keys are the keys matching ^[0-9]+$ (as in the legacy rules);
    -- strict also wants them canonical positive BIGINT ids.
    FOR k, v IN SELECT key, value FROM jsonb_each(d) WHERE key ~ '^[0-9]+$' LOOP
        owner_count := owner_count + 1;
        IF k !~ '^[1-9][0-9]{0,18}$'
           OR (length(k) = 19 AND k > '9223372036854775807') THEN
            codes := codes || 'non_canonical_owner_key'::text;
            shares_ok := false;
        END IF;
        IF kind = 'joint_ownership' THEN
            codes := codes || 'unexpected_share'::text;
            CONTINUE;
        END IF;
        IF jsonb_typeof(v) <> 'number' THEN
            codes := codes || 'share_not_a_number'::text;
            shares_ok := false;
            CONTINUE;
        END IF;
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
    END LOOP;
    IF owner_count > 10000 THEN
        codes := codes || 'too_many_owners'::text;
    END IF;

    IF kind = 'individual' THEN
        IF joint IS NOT NULL THEN
            codes := codes || 'unexpected_joint_owners'::text;
        END IF;
        IF owner_count <> 1 THEN
            codes := codes || 'individual_owner_count'::text;
        ELSIF shares_ok AND total <> 100 THEN
            codes := codes || 'individual_share_not_100'::text;
        END IF;
    ELSIF kind = 'tenants_in_common' THEN
        IF joint IS NOT NULL THEN
            codes := codes || 'unexpected_joint_owners'::text;
        END IF;
        IF owner_count < 2 THEN
            codes := codes || 'too_few_owners'::text;
        END IF;
        IF owner_count >= 1 AND shares_ok AND total <> 100 THEN
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
            FOR e IN SELECT value FROM jsonb_array_elements(joint) LOOP
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
    'Violation codes of an ownership_details document under the strict rules of the ownership crate; empty when valid.';

CREATE OR REPLACE FUNCTION ownership_is_valid_strict(d jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT cardinality(ownership_strict_violations(d)) = 0
$fn$;

COMMENT ON FUNCTION ownership_is_valid_strict(jsonb) IS
    'TRUE when an ownership_details document follows the strict rules of the ownership crate (NULL for NULL).';
