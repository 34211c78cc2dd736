import fc from "fast-check";
import type { ChatEvent, MessageEvent } from "./events.ts";
import {
  dateLine,
  EventRenderer,
  plural,
  renderEvent,
  type RenderOptions,
  roomLabel,
  sanitizeForTerminal,
} from "./render.ts";
import { assert, assertEquals, assertMatch } from "../shared/_test_assert.ts";

const PLAIN: RenderOptions = {
  color: false,
  currentRoom: "general",
  me: "alice",
};
const COLOR: RenderOptions = { ...PLAIN, color: true };

/** 03:04 local time. */
const TS = new Date(2024, 0, 2, 3, 4, 5).getTime();

function message(extra: Partial<MessageEvent> = {}): MessageEvent {
  return {
    type: "message",
    room: "general",
    from: "bob",
    text: "hello",
    ts: TS,
    seq: 1,
    history: false,
    own: false,
    kind: "text",
    ...extra,
  };
}

/** Every character sanitizeForTerminal must never let through. */
const UNSAFE = new RegExp(
  "[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e" +
    "\\u2066-\\u2069\\ufeff]",
);

/** `text` with the SGR sequences `paint` makes removed (any other escape stays). */
function withoutSgr(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * The printable characters of `text` and whether each is shown dim (SGR 2),
 * following SGR 0/empty (reset all), 2 (dim) and 22 (normal intensity).
 */
function dimness(text: string): { char: string; dim: boolean }[] {
  const out: { char: string; dim: boolean }[] = [];
  let dim = false;
  for (let i = 0; i < text.length; i++) {
    // deno-lint-ignore no-control-regex
    const sgr = /^\x1b\[([0-9;]*)m/.exec(text.slice(i));
    if (sgr) {
      for (const param of sgr[1]!.split(";")) {
        if (param === "" || param === "0" || param === "22") dim = false;
        if (param === "2") dim = true;
      }
      i += sgr[0].length - 1;
      continue;
    }
    out.push({ char: text[i]!, dim });
  }
  return out;
}

// ---- sanitizeForTerminal ----------------------------------------------------

const NEUTRALISED: [string, string, string][] = [
  ["ESC", "a\x1bb", "a\\u{1b}b"],
  ["a CSI sequence", "\x1b[2J\x1b[31mred", "\\u{1b}[2J\\u{1b}[31mred"],
  ["an OSC title sequence", "\x1b]0;pwned\x07", "\\u{1b}]0;pwned\\u{7}"],
  ["the C1 CSI U+009B", "\u009b31m", "\\u{9b}31m"],
  ["NUL", "a\0b", "a\\u{0}b"],
  ["carriage return", "a\rb", "a\\u{d}b"],
  ["backspace", "a\bb", "a\\u{8}b"],
  ["DEL", "a\x7fb", "a\\u{7f}b"],
  ["BEL", "a\x07b", "a\\u{7}b"],
  ["bidi embedding LRE U+202A", "\u202a", "\\u{202a}"],
  ["bidi embedding RLE U+202B", "\u202b", "\\u{202b}"],
  ["bidi pop PDF U+202C", "\u202c", "\\u{202c}"],
  ["bidi override LRO U+202D", "\u202d", "\\u{202d}"],
  ["bidi override RLO U+202E", "evil\u202etxt.exe", "evil\\u{202e}txt.exe"],
  ["bidi isolate LRI U+2066", "\u2066", "\\u{2066}"],
  ["bidi isolate RLI U+2067", "\u2067", "\\u{2067}"],
  ["bidi isolate FSI U+2068", "\u2068", "\\u{2068}"],
  ["bidi isolate PDI U+2069", "\u2069", "\\u{2069}"],
  ["zero-width space U+200B", "a\u200bb", "a\\u{200b}b"],
  ["zero-width non-joiner U+200C", "\u200c", "\\u{200c}"],
  ["zero-width joiner U+200D", "\u200d", "\\u{200d}"],
  ["left-to-right mark U+200E", "\u200e", "\\u{200e}"],
  ["right-to-left mark U+200F", "\u200f", "\\u{200f}"],
  ["byte order mark U+FEFF", "\ufeffa", "\\u{feff}a"],
  ["arabic letter mark U+061C", "\u061c", "\\u{61c}"],
  ["line separator U+2028", "a\u2028b", "a\\u{2028}b"],
  ["paragraph separator U+2029", "a\u2029b", "a\\u{2029}b"],
  ["tab (to a space)", "a\tb", "a b"],
  ["newline (to a space)", "a\nb", "a b"],
];

for (const [what, input, expected] of NEUTRALISED) {
  Deno.test(`sanitizeForTerminal neutralises ${what}`, () => {
    assertEquals(sanitizeForTerminal(input), expected);
  });
}

Deno.test("sanitizeForTerminal keeps ordinary Unicode: accents, CJK, emoji", () => {
  for (
    const text of [
      "café é",
      "日本語",
      "🙂 👍🏽 ❤️",
      "Ελληνικά",
      "שלום",
      "a-b_c 1.2",
    ]
  ) {
    assertEquals(sanitizeForTerminal(text), text);
  }
});

Deno.test("sanitizeForTerminal lets no unsafe character through, whatever the input", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (text) => {
      const out = sanitizeForTerminal(text);
      assert(!UNSAFE.test(out), JSON.stringify(out));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.array(
        fc.constantFrom("\x1b", "\u009b", "\u202e", "\u2066", "a", "[", "\n"),
      ),
      (chars) => {
        const out = sanitizeForTerminal(chars.join(""));
        assert(!UNSAFE.test(out), JSON.stringify(out));
      },
    ),
  );
});

// ---- roomLabel ---------------------------------------------------------------

Deno.test("roomLabel shows a public room with #", () => {
  assertEquals(roomLabel("general", "alice"), "#general");
});

Deno.test("roomLabel shows a DM room as the other user, from either side", () => {
  assertEquals(roomLabel("dm:alice:bob", "alice"), "dm bob");
  assertEquals(roomLabel("dm:alice:bob", "bob"), "dm alice");
});

Deno.test("roomLabel neutralises escapes in a hostile room name", () => {
  assertEquals(roomLabel("gen\x1b[2Jeral", "alice"), "#gen\\u{1b}[2Jeral");
  assertEquals(
    roomLabel("dm:alice:\x1b]0;x\x07", "alice"),
    "dm \\u{1b}]0;x\\u{7}",
  );
});

// ---- renderEvent, colour off -------------------------------------------------

Deno.test("a message in the current room renders as time <name> text", () => {
  assertEquals(renderEvent(message(), PLAIN), "03:04 <bob> hello");
});

Deno.test("a /me message renders as time * name action", () => {
  assertEquals(
    renderEvent(message({ kind: "me", text: "waves" }), PLAIN),
    "03:04 * bob waves",
  );
});

Deno.test("a message in another room is prefixed with that room", () => {
  assertEquals(
    renderEvent(message({ room: "random" }), PLAIN),
    "03:04 [#random] <bob> hello",
  );
  assertEquals(
    renderEvent(message({ room: "dm:alice:bob" }), PLAIN),
    "03:04 [dm bob] <bob> hello",
  );
});

Deno.test("a message in the current DM room has no room prefix", () => {
  const options = { ...PLAIN, currentRoom: "dm:alice:bob" };
  assertEquals(
    renderEvent(message({ room: "dm:alice:bob" }), options),
    "03:04 <bob> hello",
  );
});

Deno.test("a history message without colour looks like a live one", () => {
  assertEquals(
    renderEvent(message({ history: true }), PLAIN),
    renderEvent(message(), PLAIN),
  );
});

Deno.test("a join renders with an arrow, the user and the room", () => {
  const out = renderEvent(
    { type: "join", room: "general", user: "bob" },
    PLAIN,
  );
  assertMatch(out, /^\d{2}:\d{2} → bob joined #general$/);
});

Deno.test("a leave renders with an arrow, the user and the room", () => {
  const out = renderEvent(
    { type: "leave", room: "dm:alice:bob", user: "bob" },
    PLAIN,
  );
  assertMatch(out, /^\d{2}:\d{2} ← bob left dm bob$/);
});

Deno.test("presence says online or offline in one line, naming shared rooms only when the current one is not among them", () => {
  const presence = (rooms: string[], online: boolean): ChatEvent => ({
    type: "presence",
    room: rooms[0]!,
    rooms,
    user: "bob",
    online,
  });
  assertMatch(
    renderEvent(presence(["general"], true), PLAIN),
    /^\d{2}:\d{2} bob is online$/,
  );
  assertMatch(
    renderEvent(presence(["random", "general", "dm:alice:bob"], false), PLAIN),
    /^\d{2}:\d{2} bob is offline$/,
  );
  assertMatch(
    renderEvent(presence(["random", "ops", "dm:alice:bob"], false), PLAIN),
    /^\d{2}:\d{2} bob is offline \(#random, #ops\)$/,
  );
  // a DM alone goes without saying: no "[dm bob] bob is offline"
  assertMatch(
    renderEvent(presence(["dm:alice:bob"], false), PLAIN),
    /^\d{2}:\d{2} bob is offline$/,
  );
});

Deno.test("an error renders as ! message", () => {
  assertEquals(
    renderEvent({ type: "error", message: "not sent: too long" }, PLAIN),
    "! not sent: too long",
  );
});

Deno.test("a system message renders each of its lines with *", () => {
  assertEquals(
    renderEvent({ type: "system", message: "one\ntwo" }, PLAIN),
    "* one\n* two",
  );
});

Deno.test("a warning renders each of its lines with !!!", () => {
  assertEquals(
    renderEvent({
      type: "system",
      message: "key changed\ncheck it",
      warning: true,
    }, PLAIN),
    "!!! key changed\n!!! check it",
  );
});

Deno.test("ready says who you are, your fingerprint, the server and the room", () => {
  assertEquals(
    renderEvent({
      type: "ready",
      user: "alice",
      fingerprint: "ab12",
      room: "general",
      server: "localhost:7443",
    }, PLAIN),
    "logged in as alice (fingerprint ab12) on localhost:7443 in #general; /help for commands",
  );
});

// ---- renderEvent, colour on --------------------------------------------------

Deno.test("with colour on, the sender's name is coloured and the text is not", () => {
  const out = renderEvent(message(), COLOR);
  // deno-lint-ignore no-control-regex
  assertMatch(out, /^03:04 <\x1b\[\d+mbob\x1b\[0m> hello$/);
  assertEquals(withoutSgr(out), "03:04 <bob> hello");
});

Deno.test("with colour on, a name gets the same colour every time", () => {
  const a = renderEvent(message({ text: "one" }), COLOR);
  const b = renderEvent(message({ text: "two", room: "random" }), COLOR);
  // deno-lint-ignore no-control-regex
  const colour = (s: string) => /<(\x1b\[\d+m)bob/.exec(s)?.[1];
  assert(colour(a) !== undefined);
  assertEquals(colour(a), colour(b));
});

Deno.test("with colour on, a live message is not dimmed", () => {
  assert(dimness(renderEvent(message(), COLOR)).every((c) => !c.dim));
});

Deno.test("with colour on, a history message is dimmed from start to end (BUG: the reset after the coloured name ends the dim)", () => {
  const out = renderEvent(message({ history: true, text: "old news" }), COLOR);
  assertEquals(withoutSgr(out), "03:04 <bob> old news");
  const bright = dimness(out).filter((c) => !c.dim).map((c) => c.char).join("");
  assertEquals(
    bright,
    "",
    `not dimmed: ${JSON.stringify(bright)} in ${JSON.stringify(out)}`,
  );
});

Deno.test("with colour on, join, leave and presence are dimmed", () => {
  const events: ChatEvent[] = [
    { type: "join", room: "general", user: "bob" },
    { type: "leave", room: "general", user: "bob" },
    {
      type: "presence",
      room: "general",
      rooms: ["general"],
      user: "bob",
      online: true,
    },
  ];
  for (const event of events) {
    assert(dimness(renderEvent(event, COLOR)).every((c) => c.dim), event.type);
  }
});

// ---- hostile names and text --------------------------------------------------

Deno.test("a hostile room, user name or text cannot put an escape on the screen", () => {
  const room = "gen\x1b[2J\u202eeral";
  const user = "ev\x1b]0;pwned\x07\u009b31mil";
  const text = "hi\x1b[1;1H\x1b[2K\u2066\rgone";
  const events: ChatEvent[] = [
    message({ room, from: user, text }),
    message({ room, from: user, text, kind: "me", history: true }),
    message({ room: `dm:alice:${user}`, from: user, text }),
    { type: "join", room, user },
    { type: "leave", room, user },
    { type: "presence", room, rooms: [room], user, online: true },
    { type: "error", message: text },
    { type: "system", message: text },
    { type: "system", message: text, warning: true },
    message({ room, from: user, text, kind: "topic" }),
    { type: "history", room, reason: "join", count: 2, unreadable: 3 },
    { type: "history", room, reason: "load", count: 0, unreadable: 0 },
    {
      type: "rooms",
      rooms: [{ room, members: 2, joined: true, current: true }],
    },
    {
      type: "who",
      room,
      members: [{
        user,
        fingerprint: text,
        online: true,
        trust: "changed",
        you: false,
      }],
    },
    {
      type: "whois",
      user,
      fingerprint: text,
      safetyNumber: text,
      trust: "unverified",
      you: false,
    },
    {
      type: "ready",
      user,
      fingerprint: text,
      room,
      server: text,
    },
  ];
  for (const options of [PLAIN, COLOR]) {
    for (const event of events) {
      const out = renderEvent(event, options);
      const left = withoutSgr(out).replaceAll("\n", "");
      assert(
        !UNSAFE.test(left),
        `${event.type} (color ${options.color}): ${JSON.stringify(out)}`,
      );
      if (!options.color) assert(!out.includes("\x1b"), JSON.stringify(out));
    }
  }
});

// ---- topics, clear, plurals --------------------------------------------------

Deno.test("a topic message says who set the topic of which room", () => {
  assertEquals(
    renderEvent(message({ kind: "topic", text: "release on Friday" }), PLAIN),
    "03:04 bob set the topic of #general: release on Friday",
  );
  assertEquals(
    renderEvent(
      message({ kind: "topic", text: "x", room: "dm:alice:bob" }),
      PLAIN,
    ),
    "03:04 bob set the topic of dm bob: x",
  );
});

Deno.test("clear renders as nothing: the terminal clears its screen itself", () => {
  assertEquals(renderEvent({ type: "clear" }, PLAIN), "");
});

Deno.test("plural says 1 member and 2 members", () => {
  assertEquals(plural(1, "member"), "1 member");
  assertEquals(plural(0, "member"), "0 members");
  assertEquals(plural(2, "member"), "2 members");
});

// ---- history headers ---------------------------------------------------------

Deno.test("a history block at join gets a header naming the room", () => {
  assertEquals(
    renderEvent({
      type: "history",
      room: "general",
      reason: "join",
      count: 3,
      unreadable: 0,
    }, PLAIN),
    "— earlier in #general —",
  );
  assertEquals(
    renderEvent({
      type: "history",
      room: "dm:alice:bob",
      reason: "load",
      count: 1,
      unreadable: 0,
    }, PLAIN),
    "— earlier in dm bob —",
  );
});

Deno.test("a late joiner is told how many earlier messages were sent before they joined", () => {
  assertEquals(
    renderEvent({
      type: "history",
      room: "general",
      reason: "join",
      count: 0,
      unreadable: 49,
    }, PLAIN),
    "— 49 earlier messages in #general were sent before you joined —",
  );
  assertEquals(
    renderEvent({
      type: "history",
      room: "general",
      reason: "load",
      count: 2,
      unreadable: 1,
    }, PLAIN),
    "— 1 earlier message in #general was sent before you joined —\n" +
      "— earlier in #general —",
  );
});

Deno.test("a /load that brings nothing says there are no earlier messages; an empty new room says nothing", () => {
  assertEquals(
    renderEvent({
      type: "history",
      room: "general",
      reason: "load",
      count: 0,
      unreadable: 0,
    }, PLAIN),
    "— no earlier messages in #general —",
  );
  assertEquals(
    renderEvent({
      type: "history",
      room: "general",
      reason: "join",
      count: 0,
      unreadable: 0,
    }, PLAIN),
    "",
  );
});

Deno.test("with colour on, history headers are dimmed", () => {
  const out = renderEvent({
    type: "history",
    room: "general",
    reason: "join",
    count: 1,
    unreadable: 4,
  }, COLOR);
  for (const line of out.split("\n")) {
    assert(dimness(line).every((c) => c.dim), JSON.stringify(line));
  }
});

// ---- EventRenderer: date lines -----------------------------------------------

/** 2024-01-03 12:00 local: "today" for these tests. */
const NOON = new Date(2024, 0, 3, 12, 0).getTime();
const at = (day: number, h: number, m: number) =>
  new Date(2024, 0, day, h, m).getTime();

function renderAll(events: ChatEvent[], currentRoom = "general"): string[] {
  const renderer = new EventRenderer({
    color: false,
    me: "Alice",
    now: () => NOON,
  });
  return events.map((e) => renderer.render(e, currentRoom)).join("\n").split(
    "\n",
  );
}

Deno.test("dateLine names the weekday, day, month and year", () => {
  assertEquals(dateLine(at(2, 3, 4)), "— Tuesday 2 January 2024 —");
});

Deno.test("event renderer: today's messages show HH:MM with no date line", () => {
  assertEquals(
    renderAll([
      message({ ts: at(3, 9, 5), text: "one" }),
      message({ ts: at(3, 11, 0), text: "two" }),
    ]),
    ["09:05 <bob> one", "11:00 <bob> two"],
  );
});

Deno.test("event renderer: history from earlier days gets a date line per day, then today's", () => {
  assertEquals(
    renderAll([
      {
        type: "history",
        room: "general",
        reason: "join",
        count: 4,
        unreadable: 0,
      },
      message({ ts: at(1, 22, 0), text: "a", history: true }),
      message({ ts: at(1, 23, 0), text: "b", history: true }),
      message({ ts: at(2, 8, 0), text: "c", history: true }),
      message({ ts: at(3, 9, 0), text: "d", history: true }),
      message({ ts: at(3, 11, 59), text: "live" }),
    ]),
    [
      "— earlier in #general —",
      "— Monday 1 January 2024 —",
      "22:00 <bob> a",
      "23:00 <bob> b",
      "— Tuesday 2 January 2024 —",
      "08:00 <bob> c",
      "— Wednesday 3 January 2024 —",
      "09:00 <bob> d",
      "11:59 <bob> live",
    ],
  );
});

Deno.test("event renderer: blocks of two rooms each get their header, and the day is told again when it changes back", () => {
  assertEquals(
    renderAll([
      {
        type: "history",
        room: "general",
        reason: "join",
        count: 1,
        unreadable: 0,
      },
      message({ ts: at(3, 10, 0), text: "new in general", history: true }),
      { type: "history", room: "ops", reason: "join", count: 1, unreadable: 0 },
      message({ room: "ops", ts: at(2, 10, 0), text: "old", history: true }),
      {
        type: "presence",
        room: "general",
        rooms: ["general"],
        user: "bob",
        online: true,
      },
    ]),
    [
      "— earlier in #general —",
      "10:00 <bob> new in general",
      "— earlier in #ops —",
      "— Tuesday 2 January 2024 —",
      "10:00 [#ops] <bob> old",
      "— Wednesday 3 January 2024 —",
      "12:00 bob is online",
    ],
  );
});

Deno.test("event renderer: a /load block comes after a header, so older lines below newer ones are marked", () => {
  assertEquals(
    renderAll([
      message({ ts: at(3, 11, 0), text: "latest" }),
      {
        type: "history",
        room: "general",
        reason: "load",
        count: 1,
        unreadable: 0,
      },
      message({ ts: at(3, 8, 0), text: "older", history: true }),
      {
        type: "history",
        room: "general",
        reason: "load",
        count: 0,
        unreadable: 0,
      },
    ]),
    [
      "11:00 <bob> latest",
      "— earlier in #general —",
      "08:00 <bob> older",
      "— no earlier messages in #general —",
    ],
  );
});

Deno.test("event renderer: untimed events print no date line and clear prints nothing", () => {
  const renderer = new EventRenderer({
    color: false,
    me: "alice",
    now: () => NOON,
  });
  assertEquals(renderer.render({ type: "clear" }, "general"), "");
  assertEquals(
    renderer.render({ type: "system", message: "hi" }, "general"),
    "* hi",
  );
  assertEquals(
    renderer.render(message({ ts: at(2, 1, 2) }), "general"),
    "— Tuesday 2 January 2024 —\n01:02 <bob> hello",
  );
});

Deno.test("event renderer: with colour on, the date line is dimmed", () => {
  const renderer = new EventRenderer({
    color: true,
    me: "alice",
    now: () => NOON,
  });
  const [date] = renderer.render(message({ ts: at(2, 1, 2) }), "general")
    .split("\n");
  assert(dimness(date!).every((c) => c.dim), JSON.stringify(date));
});

// ---- /rooms, /who, /whois ----------------------------------------------------

Deno.test("rooms are listed with a member count in words and joined/current spelled out", () => {
  assertEquals(
    renderEvent({
      type: "rooms",
      rooms: [
        { room: "dm:alice:bob", members: 2, joined: true, current: false },
        { room: "general", members: 1, joined: true, current: false },
        { room: "ops", members: 12, joined: true, current: true },
        { room: "random", members: 3, joined: false, current: false },
      ],
    }, PLAIN),
    [
      "* 4 rooms:",
      "*   dm bob    2 members   joined",
      "*   #general  1 member    joined",
      "*   #ops      12 members  joined, current",
      "*   #random   3 members",
    ].join("\n"),
  );
  assertEquals(renderEvent({ type: "rooms", rooms: [] }, PLAIN), "* no rooms");
});

Deno.test("who lists members with fingerprint, online and trust, and marks you", () => {
  assertEquals(
    renderEvent({
      type: "who",
      room: "general",
      members: [
        {
          user: "alice",
          fingerprint: "aaaa aaaa aaaa aaaa",
          online: true,
          trust: "unverified",
          you: true,
        },
        {
          user: "bob",
          fingerprint: "bbbb bbbb bbbb bbbb",
          online: false,
          trust: "verified",
          you: false,
        },
        {
          user: "carol",
          fingerprint: "cccc cccc cccc cccc",
          online: true,
          trust: "unverified",
          you: false,
        },
        {
          user: "mallory",
          fingerprint: "dddd dddd dddd dddd",
          online: true,
          trust: "changed",
          you: false,
        },
      ],
    }, PLAIN),
    [
      "* 4 members in #general:",
      "*   alice     aaaa aaaa aaaa aaaa  online   (you)",
      "*   bob       bbbb bbbb bbbb bbbb  offline  verified ✓",
      "*   carol     cccc cccc cccc cccc  online",
      "*   mallory   dddd dddd dddd dddd  online   KEY CHANGED: /whois mallory",
    ].join("\n"),
  );
});

Deno.test("who of a room of one says 1 member", () => {
  assertMatch(
    renderEvent({
      type: "who",
      room: "dm:alice:bob",
      members: [{
        user: "alice",
        fingerprint: "aaaa",
        online: true,
        trust: "unverified",
        you: true,
      }],
    }, PLAIN),
    /^\* 1 member in dm bob:\n/,
  );
});

const WHOIS = {
  type: "whois",
  user: "bob",
  fingerprint: "abcd ".repeat(16).trim(),
  safetyNumber: "12345 ".repeat(12).trim(),
  trust: "unverified",
  you: false,
} as const;

Deno.test("whois of someone not verified shows how to verify them", () => {
  const out = renderEvent(WHOIS, PLAIN);
  assertEquals(out.split("\n").slice(0, 4), [
    "* bob",
    `*   fingerprint    ${WHOIS.fingerprint}`,
    `*   safety number  ${WHOIS.safetyNumber}`,
    "*   status         not verified",
  ]);
  assertMatch(out, /then: \/verify bob <number>$/);
});

Deno.test("whois of someone verified says verified ✓ and does not ask to verify again", () => {
  const out = renderEvent({ ...WHOIS, trust: "verified" }, PLAIN);
  assertMatch(out, /\* {3}status +verified ✓$/);
  assert(!out.includes("/verify"), out);
});

Deno.test("whois of someone whose key changed warns and asks to verify again", () => {
  const out = renderEvent({ ...WHOIS, trust: "changed" }, PLAIN);
  assertMatch(out, /status +KEY CHANGED since you verified it/);
  assertMatch(out, /\/verify bob <number>$/);
});

Deno.test("whois of yourself says so instead of a status", () => {
  const out = renderEvent({ ...WHOIS, user: "alice", you: true }, PLAIN);
  assertMatch(out, /\(this is you\)$/);
  assert(!out.includes("status"), out);
});
