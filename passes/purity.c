#include "purity.h"

#include <string.h>

#define H (PURE_CALL | PURE_IMMUTABLE | PURE_HOIST) /* pure, immutable result, hoistable */
#define I (PURE_CALL | PURE_IMMUTABLE)              /* pure, immutable result */
#define P PURE_CALL                                 /* pure, but the result is a new mutable object
						     * or an iterator: never hoisted or cached */

/* A callable is listed only when, for arguments that are constants (str, bytes, numbers, tuples
 * of those), calling it reads no state that can change while a program runs (no clock, random,
 * environment, file system, locale, mutable module global) and changes nothing visible. */
const struct pure_callable purity_table[] = {
	/* re: compiling reads only the pattern and flags; re.Pattern is immutable, hashable and
	 * compares by (pattern, flags). re.escape maps str -> str. */
	{"re.compile", H},
	{"re.escape", H},
	/* struct: Struct objects are immutable (read-only format and size); calcsize -> int and
	 * pack -> bytes depend only on their arguments. */
	{"struct.Struct", H},
	{"struct.calcsize", H},
	{"struct.pack", H},
	/* builtins that build an immutable value from constants; the cheap ones that read best
	 * inline (range, len, str, min, ...) are pure for SPF301 but not hoisted */
	{"builtins.frozenset", H}, /* frozenset: immutable set */
	{"builtins.tuple", H},     /* tuple of the constant's items */
	{"builtins.int", H},       /* int of a constant str/number (with base) */
	{"builtins.float", H},     /* float of a constant str/number ("inf", "1e3") */
	{"builtins.complex", H},   /* complex of constants */
	{"builtins.str", I},       /* str of a constant; bytes + encoding decodes */
	{"builtins.bytes", H},     /* bytes of a constant str + encoding, or of an int size */
	{"builtins.bool", I},      /* truth value of a constant */
	{"builtins.ord", H},       /* code point of a one-character str */
	{"builtins.chr", H},       /* one-character str of a code point */
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
	{"builtins.bytes.fromhex", H},
	{"builtins.int.from_bytes", H},
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
	 * context only matters for arithmetic) */
	{"decimal.Decimal", H},
	{"fractions.Fraction", H},
	/* datetime: date/time/datetime/timedelta/timezone values are immutable; constructors with
	 * explicit fields read no clock (now()/today() take no constant arguments and are not listed) */
	{"datetime.timedelta", H},
	{"datetime.date", H},
	{"datetime.time", H},
	{"datetime.datetime", H},
	{"datetime.timezone", H},
	/* operator: the getter objects are immutable callables built from constant keys */
	{"operator.itemgetter", H},
	{"operator.attrgetter", H},
	{"operator.methodcaller", H},
	/* math: functions of numbers to numbers, no state */
	{"math.sqrt", H}, {"math.isqrt", H}, {"math.exp", H}, {"math.log", H}, {"math.log2", H},
	{"math.log10", H}, {"math.pow", H}, {"math.sin", H}, {"math.cos", H}, {"math.tan", H},
	{"math.atan", H}, {"math.atan2", H}, {"math.hypot", H}, {"math.floor", H}, {"math.ceil", H},
	{"math.trunc", H}, {"math.fabs", H}, {"math.factorial", H}, {"math.comb", H}, {"math.perm", H},
	{"math.gcd", H}, {"math.lcm", H}, {"math.radians", H}, {"math.degrees", H}, {"math.isclose", H},
	{"math.isfinite", H}, {"math.isinf", H}, {"math.isnan", H}, {"math.fsum", H}, {"math.prod", H},
	/* unicodedata: lookups in the interpreter's fixed Unicode database -> str/int */
	{"unicodedata.normalize", H},
	{"unicodedata.name", H},
	{"unicodedata.lookup", H},
	{"unicodedata.category", H},
	/* ipaddress / uuid: immutable, hashable value objects parsed from constants */
	{"ipaddress.ip_address", H},
	{"ipaddress.ip_network", H},
	{"ipaddress.IPv4Address", H},
	{"ipaddress.IPv4Network", H},
	{"ipaddress.IPv6Address", H},
	{"ipaddress.IPv6Network", H},
	{"uuid.UUID", H},
	/* checksums and hex codecs: bytes -> int/bytes */
	{"binascii.unhexlify", H},
	{"binascii.hexlify", H},
	{"binascii.crc32", H},
	{"zlib.crc32", H},
	{"zlib.adler32", H},
	/* os.path string operations (no file system, no cwd, no environment): str -> str/tuple */
	{"os.path.join", H},
	{"os.path.basename", H},
	{"os.path.dirname", H},
	{"os.path.splitext", H},
	{"os.path.split", H},
	{"os.path.normpath", H},
	{NULL, 0},
};

const struct pure_callable *purity_lookup(const char *qualified)
{
	for (const struct pure_callable *p = purity_table; p->qualified; p++)
		if (!strcmp(p->qualified, qualified))
			return p;
	return NULL;
}
