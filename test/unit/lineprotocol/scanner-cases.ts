/**
 * Line-protocol cases and InfluxDB 1.6.7's verdicts on them, shared by the scanner's unit test and by
 * test/integration/scanner-verdicts.test.ts, which sends each line to a real influxd and asserts the same verdict
 * and, for a rejected line, the same error text.
 */
import type { Precision } from '../../../src/lineprotocol/precision.js';

/** Lines InfluxDB accepts (the scanner passes them through byte for byte), by group. */
export const VALID_LINES: Record<string, readonly string[]> = {
  'measurement escapes': [
    'cpu\\,x v=1 1',
    'cpu\\ x v=1 1',
    'c=pu v=1 1', // '=' needs no escape in a measurement
    '"cpu" v=1 1',
    '\\,cpu v=1 1',
  ],
  'tags and tag escapes': [
    'm,t=v v=1 1',
    'm,a=1,b=2,c=3 v=1 1',
    'm,c=1,a=2,b=3 v=1 1', // unsorted is fine
    'm,t\\,k=v v=1 1',
    'm,t\\ k=v v=1 1',
    'm,t\\=k=v v=1 1',
    'm,t=v\\,1 v=1 1',
    'm,t=v\\ 1 v=1 1',
    'm,t=v\\=1 v=1 1',
    'm,t==x v=1 1', // InfluxDB only checks a tag value's first byte for ',' and ' '
    'm,t=a\\\\ b v=1 1', // a byte after a backslash is escaped, even a backslash's
    'm,a\\ b=1,a\\,b=2 v=1 1', // keys differ as escaped bytes
  ],
  'field keys': ['m f\\ k=1 1', 'm f\\,k=1 1', 'm f\\=k=1 1', 'm "f"=1 1', 'm é=1 1'],
  floats: [
    'm v=1 1',
    'm v=-1 1',
    'm v=1.5 1',
    'm v=-1.5 1',
    'm v=.5 1',
    'm v=-.5 1',
    'm v=1. 1',
    'm v=0 1',
    'm v=1e5 1',
    'm v=1E5 1',
    'm v=1e+5 1',
    'm v=1e-5 1',
    'm v=-1.5E-10 1',
    'm v=1.e5 1',
    'm v=1.7976931348623157e308 1',
    'm v=1.7976931348623158e308 1', // rounds to MaxFloat64
    'm v=1e-400 1', // underflow is no error
    `m v=${'9'.repeat(308)} 1`,
    `m v=-${'1'.repeat(309)} 1`, // 1.1e308 still fits
    `m v=0.${'0'.repeat(400)}1 1`,
    'm v=00012.5 1',
  ],
  integers: [
    'm v=1i 1',
    'm v=-1i 1',
    'm v=0i 1',
    'm v=9223372036854775807i 1',
    'm v=-9223372036854775808i 1',
    'm v=0009223372036854775807i 1',
    // The inline path takes up to 18 digits; 19 and more (with leading zeros too) are range-checked.
    'm v=999999999999999999i 1',
    'm v=0000000000000000000001i 1',
    'm a=84i,b=7i,c=0i,d=1.5 1',
  ],
  booleans: ['m a=t,b=T,c=true,d=True,e=TRUE 1', 'm a=f,b=F,c=false,d=False,e=FALSE 1'],
  strings: [
    'm s="" 1',
    'm s="a" 1',
    'm s="a\\"b" 1',
    'm s="a\\\\" 1',
    'm s="a,b c=d" 1',
    'm s="é ✓ 日本" 1',
    'm s="a\nb" 1', // a newline inside a string is part of the line
    'm s="x"y 1', // InfluxDB accepts bytes after the closing quote up to the next separator
    'm s="\\n" 1',
  ],
  'mixed fields': ['m a=1,b=2i,c="s",d=t,e=-1.5e3 1', 'cpu,host=server01,region=us-west usage_idle=84.0,usage_steal=0i 1700000000000000000'],
  unicode: ['日本,地域=東京 温度=21.5,説明="晴れ" 1', 'm\\ é,tàg=väl fîeld="ünîcøde" 1', '🚀,🏷=🔖 📈=1 1'],
  timestamps: ['m v=1 0', 'm v=1 -1', 'm v=1 -0', 'm v=1 9223372036854775806', 'm v=1 -9223372036854775806', 'm v=1 0000000000000000000000001'],
  'whitespace InfluxDB tolerates': ['m  v=1 1', 'm v=1  1', 'm v=1 \t1', 'm v=1 1  ', 'm \tv=1 1'],
};

/** Lines InfluxDB rejects, with the reason it gives (`unable to parse '<line>': <reason>`). */
export const INVALID_LINES: ReadonlyArray<readonly [line: string, reason: string]> = [
  ['m', 'missing fields'],
  ['m ', 'invalid field format'],
  [',m v=1', 'missing measurement'],
  ['m, v=1', 'missing tag key'],
  ['m,=v v=1', 'missing tag key'],
  ['m,t v=1', 'missing tag value'],
  ['m,t= v=1', 'missing tag value'],
  ['m,t=a', 'missing fields'],
  ['m,t=a=b v=1', 'invalid tag format'],
  ['m,a=1,a=2 v=1', 'duplicate tags'],
  ['m,b=1,a=2,b=3 v=1', 'duplicate tags'],
  ['m,a\\ b=1,a\\ b=2 v=1', 'duplicate tags'],
  ['m =1', 'missing field key'],
  ['m v=', 'missing field value'],
  ['m v=,w=1', 'missing field value'],
  ['m v= 1', 'missing field value'],
  ['m v=1,=2', 'missing field key'],
  ['m v=1,w', 'invalid field format'],
  ['m v=1,,w=2', 'invalid field format'],
  ['m v=1, w=2', 'invalid field format'],
  ['m v="abc', 'unbalanced quotes'],
  ['m v="a\\"', 'unbalanced quotes'],
  ['m v=tru', 'invalid boolean'],
  ['m v=truE', 'invalid boolean'],
  ['m v=tRUE', 'invalid boolean'],
  ['m v=ti', 'invalid boolean'],
  ['m v=+1', 'invalid boolean'],
  ['m v=Inf', 'invalid boolean'],
  ['m v=e5', 'invalid boolean'],
  ['m v=no', 'invalid number'],
  ['m v=NaN', 'invalid number'],
  ['m v=-', 'invalid number'],
  ['m v=-,w=1', 'invalid number'],
  ['m v=--5', 'invalid number'],
  ['m v=1-5', 'invalid number'],
  ['m v=1.1.1', 'invalid number'],
  ['m v=1.5i', 'invalid number'],
  ['m v=1e5i', 'invalid number'],
  ['m v=-i', 'invalid number'],
  ['m v=1i9', 'invalid number'],
  ['m v=1\\,w=2', 'invalid number'],
  ['m v=1\t', 'invalid number'],
  ['m v=1u', 'invalid number'], // unsigned is off in InfluxDB 1.x
  ['m v=1e400', 'invalid float'],
  ['m v=1.8e308', 'invalid float'],
  ['m v=1.7976931348623159e308', 'invalid float'],
  ['m v=1e', 'invalid float'],
  ['m v=.e5', 'invalid float'],
  ['m v=-e5', 'invalid float'],
  ['m v=1e5.5', 'invalid float'],
  [`m v=${'1'.repeat(400)}`, 'invalid float'],
  ['m v=12i3 1', 'invalid number'],
  ['m v=12ii 1', 'invalid number'],
  [
    'm v=9223372036854775808i',
    'unable to parse integer 9223372036854775808: strconv.ParseInt: parsing "9223372036854775808": value out of range',
  ],
  [
    'm v=-9223372036854775809i',
    'unable to parse integer -9223372036854775809: strconv.ParseInt: parsing "-9223372036854775809": value out of range',
  ],
  ['m v=1 1x', 'bad timestamp'],
  ['m v=1 ,w=2', 'bad timestamp'],
  ['m v=1 123\t', 'bad timestamp'],
  ['m v=1 123 x', 'point is invalid'],
  ['m v=1 1 1', 'point is invalid'],
  ['m v=1 -', 'strconv.ParseInt: parsing "-": invalid syntax'],
  ['m v=1 99999999999999999999', 'strconv.ParseInt: parsing "99999999999999999999": value out of range'],
  ['m v=1 9223372036854775807', 'time outside range -9223372036854775806 - 9223372036854775806'],
  ['m v=1 -9223372036854775807', 'time outside range -9223372036854775806 - 9223372036854775806'],
  ['m a\\\\=1 1', 'invalid value: field-key=a\\\\=1'],
  [`m ${'k'.repeat(70000)}=1`, 'max key length exceeded: 70005 > 65535'],
  [`m${'x'.repeat(65536)} v=1`, 'max key length exceeded: 65537 > 65535'],
  ['m v=1\r 1', 'invalid number'], // a CR is only dropped at the line's end
];

export const TIME_OUTSIDE_RANGE = 'time outside range -9223372036854775806 - 9223372036854775806';

/** Per precision, the largest |t| whose t × multiplier stays within ±(2^63 - 2) ns; one more is out of range. */
export const TIMESTAMP_LIMITS: ReadonlyArray<readonly [Precision, max: string, over: string]> = [
  ['n', '9223372036854775806', '9223372036854775807'],
  ['u', '9223372036854775', '9223372036854776'],
  ['ms', '9223372036854', '9223372036855'],
  ['s', '9223372036', '9223372037'],
  ['m', '153722867', '153722868'],
  ['h', '2562047', '2562048'],
];
