#include "purity.h"

#include <string.h>

#define H (PURE_CALL | PURE_IMMUTABLE | PURE_HOIST) /* pure, immutable result, hoistable */
#define C (H | PURE_CHEAP)                          /* the same, but too cheap to report */
#define I (PURE_CALL | PURE_IMMUTABLE)              /* pure, immutable result, not hoisted */
#define P PURE_CALL                                 /* pure, but the result is a new mutable object
						     * or an iterator: never hoisted or cached */

/* A callable is listed only when, for arguments that are constants (str, bytes, numbers, tuples
 * of those), calling it reads no state that can change while a program runs (no clock, random,
 * environment, file system, locale, mutable module global) and changes nothing visible. "Cheap"
 * (C) is measured: `/usr/bin/python3 -m timeit` of the call with constant arguments under about
 * 40 ns, the order of the global load that replaces it. Whatever the label, a hoisted value is
 * shared only once the analysis-time evaluation proved it immutable (passes/budget.c). */
const struct pure_callable purity_table[] = {
	/* re: compiling reads only the pattern and flags; re.Pattern is immutable, hashable and
	 * compares by (pattern, flags) (207 ns for a cached r"\w+"). re.escape maps str -> str. */
	{"re.compile", H},
	{"re.escape", H},
	/* methods of a compiled pattern (a module constant bound once to re.compile(...)): with
	 * constant arguments, str or tuple results; matches and lists are not shared */
	{"re.Pattern.sub", H},
	{"re.Pattern.subn", H},
	{"re.Pattern.split", P},
	{"re.Pattern.findall", P},
	{"re.Pattern.match", P},
	{"re.Pattern.fullmatch", P},
	{"re.Pattern.search", P},
	/* struct: Struct objects are immutable (read-only format and size, 110 ns to build);
	 * calcsize -> int (34 ns) and pack -> bytes depend only on their arguments. */
	{"struct.Struct", H},
	{"struct.calcsize", C},
	{"struct.pack", H},
	{"struct.Struct.pack", H},   /* a Struct module constant's pack -> bytes */
	{"struct.Struct.unpack", H}, /* -> tuple */
	/* builtins that build an immutable value from constants; the cheap ones that read best
	 * inline (range, len, str, min, ...) are pure for SPF301 but not hoisted */
	{"builtins.frozenset", H}, /* frozenset: immutable set (105 ns for three items) */
	{"builtins.tuple", C},     /* tuple of the constant's items (18 ns) */
	{"builtins.int", C},       /* int of a constant str/number (with base; 55-75 ns) */
	{"builtins.float", C},     /* float of a constant str/number ("inf", "1e3"; 58 ns) */
	{"builtins.complex", C},   /* complex of constants */
	{"builtins.str", I},       /* str of a constant; bytes + encoding decodes */
	{"builtins.bytes", C},     /* bytes of a constant str + encoding, or of an int size */
	{"builtins.bool", I},      /* truth value of a constant */
	{"builtins.ord", C},       /* code point of a one-character str (14 ns) */
	{"builtins.chr", C},       /* one-character str of a code point (19 ns) */
	{"builtins.range", I},     /* range objects are immutable and hashable */
	{"builtins.len", I},       /* length of a constant */
	{"builtins.abs", I},
	{"builtins.round", I},
	{"builtins.divmod", I},    /* tuple of two numbers */
	{"builtins.pow", I},       /* numbers only; three-argument pow is modular */
	{"builtins.hex", I},
	{"builtins.oct", I},
	{"builtins.bin", I},
	{"builtins.min", I},       /* an item of the constant: immutable */
	{"builtins.max", I},
	{"builtins.sum", I},       /* sum of numbers */
	{"builtins.all", I},
	{"builtins.any", I},
	{"builtins.repr", I},      /* repr of a constant -> str */
	{"builtins.isinstance", I},
	{"builtins.issubclass", I},
	{"builtins.callable", I},
	{"builtins.bytes.fromhex", H},   /* 88 ns for two bytes, more for longer strings */
	{"builtins.int.from_bytes", H},  /* 92 ns */
	/* builtins that build a new mutable object or an iterator: pure, never shared */
	{"builtins.list", P},
	{"builtins.dict", P},
	{"builtins.set", P},
	{"builtins.bytearray", P},
	{"builtins.sorted", P},
	{"builtins.enumerate", P},
	{"builtins.zip", P},
	{"builtins.map", P},
	{"builtins.filter", P},
	{"builtins.reversed", P},
	{"builtins.iter", P},
	{"builtins.str.maketrans", P}, /* a new dict */
	/* numbers: immutable values built from constants (a Decimal from a str is exact; the
	 * context only matters for arithmetic; 111 ns; a Fraction 442 ns) */
	{"decimal.Decimal", H},
	{"fractions.Fraction", H},
	/* datetime: date/time/datetime/timedelta/timezone values are immutable; constructors with
	 * explicit fields read no clock (now()/today() take no constant arguments and are not
	 * listed); timedelta(days=365) 271 ns, date(2020, 1, 1) 103 ns */
	{"datetime.timedelta", H},
	{"datetime.date", H},
	{"datetime.time", H},
	{"datetime.datetime", H},
	{"datetime.timezone", H},
	/* operator: the getter objects are immutable callables built from constant keys (70 ns) */
	{"operator.itemgetter", H},
	{"operator.attrgetter", H},
	{"operator.methodcaller", H},
	/* math: functions of numbers to numbers, no state. The elementary ones cost about a global
	 * load (math.sqrt(2) 29 ns); those whose cost grows with their arguments are reported (and
	 * evaluated within the analysis budget: math.factorial(10**7) does not finish in it) */
	{"math.sqrt", C}, {"math.isqrt", C}, {"math.exp", C}, {"math.log", C}, {"math.log2", C},
	{"math.log10", C}, {"math.pow", C}, {"math.sin", C}, {"math.cos", C}, {"math.tan", C},
	{"math.atan", C}, {"math.atan2", C}, {"math.hypot", C}, {"math.floor", C}, {"math.ceil", C},
	{"math.trunc", C}, {"math.fabs", C}, {"math.factorial", H}, {"math.comb", H}, {"math.perm", H},
	{"math.gcd", C}, {"math.lcm", C}, {"math.radians", C}, {"math.degrees", C}, {"math.isclose", C},
	{"math.isfinite", C}, {"math.isinf", C}, {"math.isnan", C}, {"math.fsum", H}, {"math.prod", H},
	/* unicodedata: lookups in the interpreter's fixed Unicode database -> str/int */
	{"unicodedata.normalize", H},
	{"unicodedata.name", H},
	{"unicodedata.lookup", H},
	{"unicodedata.category", C},
	/* ipaddress / uuid: addresses and UUIDs are immutable, hashable value objects with
	 * __slots__ (ip_address 1.8 us, UUID 610 ns). Networks are not: they have an instance
	 * __dict__ and functools.cached_property attributes, so one shared network object would
	 * carry cached state from caller to caller. ip_address/ip_network may return either. */
	{"ipaddress.ip_address", H},
	{"ipaddress.IPv4Address", H},
	{"ipaddress.IPv6Address", H},
	{"ipaddress.ip_network", P},
	{"ipaddress.IPv4Network", P},
	{"ipaddress.IPv6Network", P},
	{"uuid.UUID", H},
	/* checksums and hex codecs: bytes -> int/bytes (about 50 ns for short input) */
	{"binascii.unhexlify", H},
	{"binascii.hexlify", H},
	{"binascii.crc32", H},
	{"zlib.crc32", H},
	{"zlib.adler32", H},
	/* os.path string operations (no file system, no cwd, no environment): str -> str/tuple
	 * (os.path.join 462 ns) */
	{"os.path.join", H},
	{"os.path.basename", H},
	{"os.path.dirname", H},
	{"os.path.splitext", H},
	{"os.path.split", H},
	{"os.path.normpath", H},
	{NULL, 0},
};

bool purity_hoistable_name(const char *name, size_t len)
{
	for (const struct pure_callable *p = purity_table; p->qualified; p++) {
		if (!(p->flags & PURE_HOIST) || (p->flags & PURE_CHEAP))
			continue;
		const char *last = strrchr(p->qualified, '.');
		last = last ? last + 1 : p->qualified;
		if (strlen(last) == len && !memcmp(last, name, len))
			return true;
	}
	return false;
}

const struct pure_callable *purity_lookup(const char *qualified)
{
	for (const struct pure_callable *p = purity_table; p->qualified; p++)
		if (!strcmp(p->qualified, qualified))
			return p;
	return NULL;
}
