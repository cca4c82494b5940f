// Package soql parses and evaluates the subset of SOQL that the Salesforce
// emulator serves. It is the emulator's query engine and the reference the
// sync configuration's SOQL compiler is tested against.
//
// # Use
//
//	q, err := soql.Parse(src)                 // syntax only
//	plan, err := soql.Compile(q, schema, now) // binds names and types
//	for _, r := range records {
//		if plan.Match(r) { ... }
//	}
//	slices.SortStableFunc(hits, plan.Compare) // when plan.Compare != nil
//
// Errors are *Error values carrying Salesforce's errorCode and message
// (see Error for the "ERROR at Row:r:Column:c" prefix). A Plan is a tree
// of closures bound at Compile time: no name lookups or reflection per
// record (long IN lists use a hash set). The incremental-sync filter
// `SystemModstamp >= <dateTime> AND Email != null` costs about 7 ns per
// record in cache (BenchmarkMatchInCache) and 15 ns per record over a
// million records stored column-wise (BenchmarkMatch). Building string
// literals: QuoteString, EscapeString, EscapeLike.
//
// # Supported subset
//
//	query      := SELECT selectList FROM object [WHERE cond]
//	              [GROUP BY path {, path}] [HAVING cond]
//	              [ORDER BY orderItem {, orderItem}] [LIMIT n] [OFFSET n]
//	selectList := COUNT() | item {, item}
//	item       := path [alias] | agg(path) [alias]  -- aliases in aggregate queries only
//	agg        := COUNT | COUNT_DISTINCT | MIN | MAX | SUM | AVG
//	path       := name {. name}                     -- Owner.Email: parent relationships
//	cond       := term {AND term} | term {OR term}  -- AND and OR never mix unparenthesised
//	term       := NOT term | ( cond ) | lhs op value | lhs LIKE 'pattern'
//	            | lhs IN (value {, value}) | lhs NOT IN (value {, value})
//	lhs        := path | agg(path)                  -- agg(path) in HAVING only
//	op         := = | != | < | <= | > | >=
//	value      := 'string' | [+|-]number | true | false | null
//	            | 2024-01-31 | 2024-01-31T10:00:00Z | 2024-01-31T10:00:00.5+05:30
//	            | TODAY | YESTERDAY | TOMORROW | {LAST|THIS|NEXT}_{WEEK|MONTH|QUARTER|YEAR}
//	            | LAST_90_DAYS | NEXT_90_DAYS | {LAST|NEXT}_N_{DAYS|WEEKS|MONTHS|QUARTERS|YEARS}:n
//	            | N_{DAYS|WEEKS|MONTHS|QUARTERS|YEARS}_AGO:n | the *_FISCAL_* forms of these
//	orderItem  := (path | agg(path)) [ASC|DESC] [NULLS FIRST|NULLS LAST]
//
// Keywords, object and field names are case-insensitive; results use the
// describe spelling. Strings take Salesforce's escapes (\n \r \t \b \f \"
// \' \\ \uXXXX, upper-case letters too); \% and \_ only in LIKE patterns;
// any other backslash sequence is MALFORMED_QUERY. OFFSET above 2,000 is
// NUMBER_OUTSIDE_VALID_RANGE "Maximum SOQL offset allowed is 2000"; a
// statement above 100,000 characters is MALFORMED_QUERY.
//
// Not supported (MALFORMED_QUERY "unexpected token"): GROUP BY ROLLUP and
// CUBE, GROUPING(), date functions in GROUP BY, subqueries and semi-joins, TYPEOF, FIELDS(), INCLUDES/EXCLUDES, WITH,
// USING SCOPE, FOR VIEW/UPDATE, object aliases, functions (toLabel, FORMAT,
// convertTimezone, date functions), currency literals (USD100) and the
// `<>` operator. Bind variables (:x) get Salesforce's "Bind variables only
// allowed in Apex code".
//
// # Semantics
//
//   - = and != on strings, IN, LIKE and ORDER BY compare strings ignoring
//     case, using Unicode simple case folding (strings.EqualFold); ordering
//     is by folded code point. Salesforce uses the querying user's locale
//     (e.g. Turkish dotted I) and a locale collation for sorting: neither
//     is modelled.
//   - Null: `= null` / `!= null` test for null. `field != value` and
//     `field NOT IN (...)` also match records whose field is null (see
//     NotEqualMatchesNull); =, IN, LIKE, <, <=, >, >= never match null, and
//     comparing with null by <, <=, >, >= matches nothing. A null in an IN
//     list makes IN match nulls and NOT IN exclude them. Logic is two-valued:
//     NOT inverts the result of its operand.
//   - The empty string is null, in record values and in literals, because
//     Salesforce stores "" as null: an empty string literal compares like
//     null (so with = it finds nulls, and with > it matches nothing).
//   - LIKE: % is any run of characters, _ exactly one character (rune);
//     only on string-typed fields (else INVALID_QUERY_FILTER_OPERATOR
//     "invalid operator on <type> field").
//   - Ids (types id and reference) compare by their case-sensitive 15-char
//     form: a 15-char literal matches its 18-char form, and an 18-char
//     literal matches in any letter case (the case is read from its
//     checksum suffix). A literal that is not 15 or 18 letters/digits is
//     INVALID_QUERY_FILTER_OPERATOR "invalid ID field: <value>" (the
//     checksum itself is not verified). Ordering of ids is by bytes.
//   - Types must match: date fields take date literals, dateTime fields
//     dateTime literals, both take relative date literals; strings and ids
//     take quoted strings; numbers, booleans unquoted. Otherwise INVALID_FIELD
//     "value of filter criterion for field 'F' must be of type T and should
//     [not] be enclosed in quotes". Booleans accept only = and !=.
//   - Relative date literals are ranges of whole UTC days resolved against
//     Compile's now: `= R` is inside, `< R` before its start, `<= R` before
//     its end, `> R` on or after its end, `>= R` on or after its start.
//     LAST_N_DAYS:n includes today; NEXT_N_DAYS:n starts tomorrow; the
//     week, month, quarter and year variants exclude the current unit.
//     Weeks start on Sunday (en_US) and fiscal years are calendar years.
//   - ORDER BY: ASC by default; nulls first for ASC and last for DESC unless
//     NULLS FIRST/LAST says otherwise. Equal keys are left in input order by
//     a stable sort; Salesforce promises no order for them.
//   - SELECT COUNT() gives Plan.Count. A query with aggregate functions,
//     GROUP BY or HAVING is Grouped: an Aggregator folds the matching
//     records into groups in one pass (a hash of the GROUP BY values) and
//     Rows answers one row per group, or exactly one without GROUP BY.
//     Columns are keyed by alias, else expr0, expr1, ... for unaliased
//     aggregates in select order, else the grouped field's name (the last
//     part of a relationship path). COUNT and COUNT_DISTINCT count non-null
//     values; SUM, AVG, MIN and MAX of no values are null. Strings group
//     and count distinct ignoring case, as = compares them, and a group
//     shows the first spelling met; ids group by their 15-character form;
//     null is a group. Without ORDER BY, groups come by their GROUP BY
//     values ascending, nulls first (Salesforce promises no order). SELECT
//     fields must be grouped ("Field must be grouped or aggregated"), GROUP
//     BY fields groupable, aggregate arguments aggregatable (FieldInfo),
//     SUM and AVG numeric, MIN and MAX not boolean. More than 2,000 groups
//     after OFFSET and LIMIT is MALFORMED_QUERY "Aggregate query does not
//     support queryMore(), ..." (aggregate results cannot be paged). Not
//     modelled: the refusal of LIMIT with aggregates but no GROUP BY, the
//     100-aggregate cap, MIN/MAX of picklists by picklist order.
//     A field selected twice is INVALID_FIELD "duplicate field
//     selected: F" (no position prefix, as documented by Salesforce).
//
// # Error fidelity
//
// Taken from real responses or Salesforce documentation: the position
// prefix, "unexpected token: 'X'" (and '<EOF>'), INVALID_TYPE "sObject type
// 'X' is not supported...", INVALID_FIELD "No such column 'X' on entity
// 'Y'...", "field 'X' can not be filtered in a query call", "duplicate
// field selected", "Maximum SOQL offset allowed is 2000",
// INVALID_QUERY_FILTER_OPERATOR "invalid ID field: X" and "invalid
// operator on id field", "Bind variables only allowed in Apex code", and
// the filter-criterion message for date fields.
//
// Unverified, chosen to look like Salesforce: lexical errors in the form
// "line 1:40 no viable alternative at character 'X'" (0-based column, no
// caret prefix; Error.Row and Error.Column are still 1-based); the
// "Invalid string literal ... Illegal character sequence" text; the type
// names in filter-criterion errors other than date (dateTime, string, id,
// double, int, long, boolean); "field 'X' can not be sorted in a query
// call"; "Ordered field must be grouped or aggregated: X"; "duplicate
// alias: X"; the error codes of the aggregate errors (their texts are
// quoted from client code written against real orgs, see aggregate.go); "numeric value out of
// range: N"; "Didn't understand relationship 'X' in field path..." (needs a
// RelationshipSchema); the 100,000-character message. For long lines
// Salesforce echoes only a window of tokens around the error; this package
// echoes the whole offending line.
package soql
