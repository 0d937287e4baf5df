/*
 * The scanner's fast path (scanner.ts: fastLine and its helpers), compiled to WebAssembly. A port check for check:
 * the same tables, the same BAIL cases, so the JS exact path still decides every line this code is unsure of.
 * Built by `make wasm` (clang --target=wasm32, no libc) into fast-line-wasm.ts; scanner.ts falls back to its own
 * fastLine when WebAssembly is unavailable. Keep the two in step: differential.test.ts runs both against the exact
 * path, and scanner-wasm.test.ts and scanner-verdicts-wasm.test.ts run the scanner's tables through this one.
 *
 * Memory (laid out by wasm-fast-path.ts): the input from __heap_base (copied in, followed by a '\n' sentinel, so the
 * body's last line needs no copy of its own), the output plan's (start, end, op) triples after it.
 */
typedef unsigned char u8;
typedef int i32;
typedef unsigned int u32;

#define BAIL (-1)
#define MAX_FAST_LINE 65531
#define MAX_INLINE_INT_DIGITS 18
#define MAX_FAST_TAGS 32

enum { PLAIN = 0, COMMA = 1, SPACE = 2, EQUALS = 3, BACKSLASH = 4, LF_ = 5, QUOTE = 6, NUMBER = 7, STRING = 8, BOOL = 9, OTHER = 10 };
enum { OP_AS_IS = 0, OP_NEWLINE = 1, OP_STAMP = 2 };

/* Byte-class tables (charclass.ts has the same ones, commented); every one stops at '\n'. */
static const u8 MEASUREMENT[256] = {[','] = COMMA, [' '] = SPACE, ['\\'] = BACKSLASH, ['\n'] = LF_};
static const u8 TAG[256] = {[','] = COMMA, [' '] = SPACE, ['='] = EQUALS, ['\\'] = BACKSLASH, ['\n'] = LF_};
static const u8 STRING_T[256] = {['"'] = QUOTE, ['\\'] = BACKSLASH, ['\n'] = LF_};
static const u8 VALUE_START[256] = {[0 ... 255] = OTHER, ['0' ... '9'] = NUMBER, ['.'] = NUMBER, ['-'] = NUMBER,
                                    ['"'] = STRING, ['t'] = BOOL, ['T'] = BOOL, ['f'] = BOOL, ['F'] = BOOL};
static const u8 LINE_START[256] = {[0] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1, ['#'] = 1, [','] = 1};

static const char *const INT64_MAX_D = "9223372036854775807";
static const char *const INT64_MIN_ABS_D = "9223372036854775808";
static const char *const UINT64_MAX_D = "18446744073709551615";
/* Largest |timestamp| per precision, indexed n, u, ms, s, m, h (scanner.ts TIME_LIMIT). */
static const char *const TIME_LIMIT[6] = {"9223372036854775806", "9223372036854775", "9223372036854",
                                          "9223372036", "153722867", "2562047"};

static i32 f_content_end;
static i32 f_has_time;
static i32 tag_keys[2 * MAX_FAST_TAGS];

/* Results of the last run(). */
static i32 r_points, r_stamped, r_ops;

static i32 slen(const char *s) {
  i32 n = 0;
  while (s[n]) n++;
  return n;
}

static inline i32 is_digit(u32 c) { return c - '0' < 10; }

/* True when the unsigned decimal buf[s, e) is at most `limit` (ASCII digits). */
static i32 within_digits(const u8 *buf, i32 s, i32 e, const char *limit) {
  while (s < e && buf[s] == '0') s++;
  i32 n = e - s;
  i32 ln = slen(limit);
  if (n != ln) return n < ln;
  for (i32 k = 0; k < n; k++) {
    u8 d = buf[s + k], l = (u8)limit[k];
    if (d != l) return d < l;
  }
  return 1;
}

static i32 significant_digits(const u8 *buf, i32 s, i32 e) {
  while (s < e && buf[s] == '0') s++;
  return e - s;
}

static inline i32 escape_ok(const u8 *buf, i32 i, i32 last) {
  if (i + 2 >= last) return 0;
  u8 n = buf[i + 1];
  return n != '\\' && n != '\n';
}

/* The class of the byte that ended the last token(). */
static i32 t_class;

/*
 * Returns the end of a token's plain bytes and valid escapes from i, and sets t_class to the class of the byte that
 * ended it; BAIL for an escape the exact path must judge. (The JS unrolls this loop four times; here the compiler
 * inlines it.)
 */
static inline i32 token(const u8 *buf, i32 i, i32 last, const u8 *table) {
  for (;;) {
    u8 c = table[buf[i]];
    if (c == PLAIN) i++;
    else if (c != BACKSLASH) {
      t_class = c;
      return i;
    } else if (escape_ok(buf, i, last)) i += 2;
    else return BAIL;
  }
}

static i32 fast_number(const u8 *buf, i32 i, i32 uns) {
  i32 neg = buf[i] == '-';
  if (neg) i++;
  i32 int_start = i;
  while (is_digit(buf[i])) i++;
  i32 int_end = i;
  u8 c = buf[i];
  i32 dot = 0;
  if (c == '.') {
    dot = 1;
    i++;
    while (is_digit(buf[i])) i++;
    c = buf[i];
  }
  if (i - int_start == (dot ? 1 : 0)) return BAIL;
  if (c == 'i') {
    if (dot || !within_digits(buf, int_start, int_end, neg ? INT64_MIN_ABS_D : INT64_MAX_D)) return BAIL;
    return i + 1;
  }
  if (c == 'u') {
    if (dot || neg || !uns || !within_digits(buf, int_start, int_end, UINT64_MAX_D)) return BAIL;
    return i + 1;
  }
  if (c == 'e' || c == 'E') {
    c = buf[++i];
    i32 exp_neg = c == '-';
    if (exp_neg || c == '+') i++;
    i32 es = i;
    i32 exp = 0;
    while (is_digit(buf[i])) exp = exp * 10 + buf[i++] - '0';
    if (i == es || i - es > 4) return BAIL;
    if (!exp_neg && significant_digits(buf, int_start, int_end) + exp > 308) return BAIL;
    return i;
  }
  if (int_end - int_start > 308 && significant_digits(buf, int_start, int_end) > 308) return BAIL;
  return i;
}

static i32 fast_string(const u8 *buf, i32 i, i32 last) {
  for (;;) {
    u8 c = STRING_T[buf[i]];
    if (c == PLAIN) i++;
    else if (c == QUOTE) return i + 1;
    else if (c == LF_) {
      if (i == last) return BAIL;
      i++;
    } else if (i + 2 < last) i += 2;
    else return BAIL;
  }
}

static i32 word(const u8 *buf, i32 i, const char *w) {
  for (i32 k = 0; w[k]; k++)
    if (buf[i + k] != (u8)w[k]) return 0;
  return 1;
}

static i32 fast_bool(const u8 *buf, i32 i) {
  i32 e = i + 1;
  for (;;) {
    u8 b = buf[e];
    if (b == ',' || b == ' ' || b == '\n' || b == '\r') break;
    e++;
  }
  i32 n = e - i;
  if (n == 1) return e;
  u8 f = buf[i];
  if (n == 4 && (f == 't' || f == 'T')) {
    if (f == 't' ? word(buf, i, "true") : (word(buf, i, "True") || word(buf, i, "TRUE"))) return e;
  } else if (n == 5 && (f == 'f' || f == 'F')) {
    if (f == 'f' ? word(buf, i, "false") : (word(buf, i, "False") || word(buf, i, "FALSE"))) return e;
  }
  return BAIL;
}

static i32 tag_keys_distinct(const u8 *buf, i32 n) {
  for (i32 a = 0; a < n - 1; a++) {
    i32 as = tag_keys[2 * a];
    i32 alen = tag_keys[2 * a + 1] - as;
    for (i32 b = a + 1; b < n; b++) {
      i32 bs = tag_keys[2 * b];
      if (tag_keys[2 * b + 1] - bs != alen) continue;
      i32 k = 0;
      while (k < alen && buf[as + k] == buf[bs + k]) k++;
      if (k == alen) return 0;
    }
  }
  return 1;
}

static inline i32 line_end(i32 p, i32 content_end, i32 end, i32 has_time) {
  if (content_end - p > MAX_FAST_LINE) return BAIL;
  f_content_end = content_end;
  f_has_time = has_time;
  return end;
}

static i32 fast_line(const u8 *buf, i32 p, i32 last, const char *ts_limit, i32 uns) {
  i32 i = token(buf, p, last, MEASUREMENT);
  if (i == BAIL) return BAIL;
  i32 c = t_class;

  i32 n_tags = 0;
  while (c == COMMA) {
    i32 ks = ++i;
    i = token(buf, i, last, TAG);
    if (i == BAIL) return BAIL;
    c = t_class;
    if (c != EQUALS || i == ks || n_tags == MAX_FAST_TAGS) return BAIL;
    tag_keys[2 * n_tags] = ks;
    tag_keys[2 * n_tags + 1] = i;
    n_tags++;
    i32 vs = ++i;
    if (buf[i] == '=') i++;
    i = token(buf, i, last, TAG);
    if (i == BAIL) return BAIL;
    c = t_class;
    if (i == vs || (c != COMMA && c != SPACE)) return BAIL;
  }
  if (c != SPACE) return BAIL;
  if (n_tags > 1 && !tag_keys_distinct(buf, n_tags)) return BAIL;
  i++;

  for (;;) {
    i32 ks = i;
    i = token(buf, i, last, TAG);
    if (i == BAIL) return BAIL;
    c = t_class;
    if (c != EQUALS || i == ks) return BAIL;

    u8 v = VALUE_START[buf[++i]];
    if (v == NUMBER) {
      i32 ns = i;
      while (is_digit(buf[i])) i++;
      c = buf[i];
      if (c == 'i' && i > ns && i - ns <= MAX_INLINE_INT_DIGITS) i++;
      else {
        if (c == '.') {
          i++;
          while (is_digit(buf[i])) i++;
          c = buf[i];
        }
        i32 plain = c == ',' || c == ' ' || c == '\n' || c == '\r';
        if (!plain || i - ns > 300 || (i - ns == 1 && buf[ns] == '.')) i = fast_number(buf, ns, uns);
      }
    } else if (v == STRING) i = fast_string(buf, i + 1, last);
    else if (v == BOOL) i = fast_bool(buf, i);
    else return BAIL;
    if (i == BAIL) return BAIL;

    c = buf[i];
    if (c == ',') i++;
    else if (c == ' ') break;
    else if (c == '\n') return line_end(p, i, i, 0);
    else if (c == '\r' && buf[i + 1] == '\n') return line_end(p, i, i + 1, 0);
    else return BAIL;
  }

  if (buf[++i] == '-') i++;
  i32 ds = i;
  while (is_digit(buf[i])) i++;
  if (i == ds || !within_digits(buf, ds, i, ts_limit)) return BAIL;
  c = buf[i];
  if (c == '\n') return line_end(p, i, i, 1);
  if (c == '\r' && buf[i + 1] == '\n') return line_end(p, i, i + 1, 1);
  return BAIL;
}

static i32 add_op(i32 *ops, i32 n, i32 s, i32 e, i32 op) {
  if (n > 0) {
    i32 k = 3 * (n - 1);
    if (ops[k + 2] == OP_AS_IS && ops[k + 1] == s) {
      ops[k + 1] = e;
      ops[k + 2] = op;
      return n;
    }
  }
  i32 k = 3 * n;
  ops[k] = s;
  ops[k + 1] = e;
  ops[k + 2] = op;
  return n + 1;
}

/*
 * Validates lines from `pos` while the fast path takes them; stops at the first line it does not (the exact path's
 * turn), at the end of the input, or when the plan is full (ops_cap triples). Returns where it stopped; r_points,
 * r_stamped and r_ops say what it did. `input` is len bytes followed by a '\n' sentinel; last_lf is the offset of
 * the input's last real '\n' (-1 when none): lines before it see it as their `last`, the tail line the sentinel.
 */
__attribute__((export_name("run")))
i32 run(const u8 *input, i32 len, i32 pos, i32 last_lf, i32 precision, i32 uns, i32 *ops, i32 ops_cap) {
  const char *ts_limit = TIME_LIMIT[precision];
  i32 points = 0, stamped = 0, n = 0;
  while (pos < len && n < ops_cap) {
    if (LINE_START[input[pos]] != 0) break;
    i32 end;
    if (pos < last_lf) end = fast_line(input, pos, last_lf, ts_limit, uns);
    else {
      end = fast_line(input, pos, len, ts_limit, uns);
      if (end != BAIL) end = len;
    }
    if (end == BAIL) break;
    points++;
    if (!f_has_time) {
      stamped++;
      n = add_op(ops, n, pos, f_content_end, OP_STAMP);
    } else if (f_content_end == end && end < len) n = add_op(ops, n, pos, end + 1, OP_AS_IS);
    else n = add_op(ops, n, pos, f_content_end, OP_NEWLINE);
    pos = end + 1;
  }
  r_points = points;
  r_stamped = stamped;
  r_ops = n;
  return pos;
}

__attribute__((export_name("points"))) i32 points(void) { return r_points; }
__attribute__((export_name("stamped"))) i32 stamped(void) { return r_stamped; }
__attribute__((export_name("ops"))) i32 ops_count(void) { return r_ops; }
