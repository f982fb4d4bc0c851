"""Functions and types that PostgreSQL extensions bring, not the core server.

A statement that calls `digest()` or declares a `geometry` column on a database where the
extension was never created fails with 42883 (undefined function) or 42704 (undefined object),
the same codes as a typo; the name tells them apart: the database lacks a package, and a person
with rights on it runs CREATE EXTENSION. Sources: PostgreSQL's Appendix F, "Additional Supplied
Modules and Extensions" (https://www.postgresql.org/docs/current/contrib.html: pgcrypto,
uuid-ossp, pg_trgm, fuzzystrmatch, tablefunc, hstore, intarray, earthdistance, cube, ltree,
citext, dblink), PostGIS's reference (https://postgis.net/docs/reference.html: the ST_ prefix)
and pgvector's README (https://github.com/pgvector/pgvector: the vector type).
"""

from __future__ import annotations

SOURCE = (
    "https://www.postgresql.org/docs/current/contrib.html; https://postgis.net/docs/reference.html; "
    "https://github.com/pgvector/pgvector"
)

FUNCTIONS: dict[str, str] = {
    "pgcrypto": "digest hmac crypt gen_salt gen_random_bytes pgp_sym_encrypt pgp_sym_decrypt pgp_pub_encrypt "
    "pgp_pub_decrypt armor dearmor encrypt decrypt encrypt_iv decrypt_iv",
    "uuid-ossp": "uuid_generate_v1 uuid_generate_v1mc uuid_generate_v3 uuid_generate_v4 uuid_generate_v5 uuid_nil "
    "uuid_ns_dns uuid_ns_url uuid_ns_oid uuid_ns_x500",
    "pg_trgm": "similarity show_trgm word_similarity strict_word_similarity show_limit set_limit",
    "fuzzystrmatch": "levenshtein levenshtein_less_equal soundex difference metaphone dmetaphone dmetaphone_alt "
    "daitch_mokotoff",
    "tablefunc": "crosstab normal_rand connectby",
    "hstore": "hstore akeys avals skeys svals hstore_to_json hstore_to_jsonb hstore_to_array hstore_to_matrix",
    "intarray": "icount idx subarray intset uniq sort sort_asc sort_desc",
    "earthdistance": "earth_distance ll_to_earth earth_box",
    "cube": "cube cube_distance cube_contains cube_union cube_inter cube_dim",
    "ltree": "nlevel subltree subpath lca text2ltree ltree2text",
    "dblink": "dblink dblink_exec dblink_connect dblink_disconnect",
}
TYPES: dict[str, str] = {
    "postgis": "geometry geography box2d box3d",
    "hstore": "hstore",
    "citext": "citext",
    "ltree": "ltree lquery",
    "cube": "cube",
    "vector": "vector halfvec sparsevec",
}

_FUNCTION_NAMES = sorted({name for names in FUNCTIONS.values() for name in names.split()})
_TYPE_NAMES = sorted({name for names in TYPES.values() for name in names.split()})
# PostgreSQL's own wording (parse_func.c: "function %s does not exist"; parse_type.c: 'type "%s"
# does not exist'), a schema-qualified or quoted name included; PostGIS's functions all start ST_.
PATTERN = (
    r'\bfunction (?:\w+\.)?"?(?:' + "|".join(_FUNCTION_NAMES) + r'|st_\w+)"?\(.*?\) does not exist'
    r'|\btype "?(?:\w+\.)?(?:' + "|".join(_TYPE_NAMES) + r')"? does not exist'
)
