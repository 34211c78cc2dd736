import { join } from "node:path";
import { SaveRefused, saveToFile, writeNewFile } from "./safe_save.ts";
import {
  assert,
  assertEquals,
  assertIncludes,
  assertRejects,
} from "../shared/_test_assert.ts";

const POSIX = Deno.build.os !== "windows";

/** A fresh temp dir by its real path (the temp root may itself be a symlink, as on macOS). */
async function withTempDir(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "save-" }));
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function refused(
  requested: string | null,
  cwd: string,
  defaultName = "default.txt",
): Promise<string> {
  const error = await assertRejects(
    () => saveToFile(requested, defaultName, "secret transcript", cwd),
    SaveRefused,
  );
  return error.message;
}

Deno.test("save writes the default name in the given cwd when no path is given", async () => {
  await withTempDir(async (dir) => {
    const path = await saveToFile(null, "chat-general.txt", "hello\n", dir);
    assertEquals(path, join(dir, "chat-general.txt"));
    assertEquals(await Deno.readTextFile(path), "hello\n");
  });
});

Deno.test("save writes to a relative path in an existing subdirectory", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "logs", "chat"), { recursive: true });
    const path = await saveToFile("logs/chat/notes.txt", "x", "body", dir);
    assertEquals(path, join(dir, "logs", "chat", "notes.txt"));
    assertEquals(await Deno.readTextFile(path), "body");
  });
});

Deno.test("save accepts an absolute path inside an existing directory", async () => {
  await withTempDir(async (dir) => {
    const wanted = join(dir, "absolute.txt");
    const path = await saveToFile(wanted, "x", "abs", "/");
    assertEquals(path, wanted);
    assertEquals(await Deno.readTextFile(wanted), "abs");
  });
});

Deno.test("save writes a large transcript completely", async () => {
  await withTempDir(async (dir) => {
    const text = "0123456789abcdef日本\n".repeat(100_000);
    const path = await saveToFile("big.txt", "x", text, dir);
    assertEquals(await Deno.readTextFile(path), text);
  });
});

Deno.test("save refuses an existing file and leaves it unchanged", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "notes.txt");
    await Deno.writeTextFile(path, "original");
    const message = await refused("notes.txt", dir);
    assertIncludes(message, "refusing to overwrite");
    assertIncludes(message, "choose another name");
    assertEquals(await Deno.readTextFile(path), "original");
  });
});

Deno.test("save refuses the default name when that file already exists", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "chat-a.txt"), "earlier save");
    await refused(null, dir, "chat-a.txt");
    assertEquals(
      await Deno.readTextFile(join(dir, "chat-a.txt")),
      "earlier save",
    );
  });
});

Deno.test("writeNewFile never overwrites a file that appeared after the check", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "raced.txt");
    await Deno.writeTextFile(path, "theirs");
    const error = await assertRejects(
      () => writeNewFile(path, "ours"),
      SaveRefused,
    );
    assertIncludes(error.message, "choose another name");
    assertEquals(await Deno.readTextFile(path), "theirs");
  });
});

Deno.test("save refuses a path with .. and writes nothing outside", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "inner"));
    for (const requested of ["../x.txt", "inner/../x.txt", "inner/..", ".."]) {
      const message = await refused(requested, join(dir, "inner"));
      assertIncludes(message, '".."', requested);
      assertIncludes(message, 'give a path without ".."', requested);
    }
    assertEquals(await exists(join(dir, "x.txt")), false);
    assertEquals(await exists(join(dir, "inner", "x.txt")), false);
  });
});

Deno.test({
  name:
    "save refuses a path whose parent directory is a symlink, and writes nothing at its target",
  ignore: !POSIX,
  fn: async () => {
    await withTempDir(async (dir) => {
      await withTempDir(async (outside) => {
        await Deno.mkdir(join(outside, "deeper"));
        await Deno.symlink(outside, join(dir, "link"));
        for (const requested of ["link/x.txt", "link/deeper/x.txt"]) {
          const message = await refused(requested, dir);
          assertIncludes(message, "symbolic link", requested);
          assertIncludes(message, "give the real path", requested);
        }
        const absolute = await refused(join(dir, "link", "x.txt"), "/");
        assertIncludes(absolute, "symbolic link");
        assertEquals(await exists(join(outside, "x.txt")), false);
        assertEquals(await exists(join(outside, "deeper", "x.txt")), false);
      });
    });
  },
});

Deno.test({
  name:
    "save refuses a final component that is a dangling symlink and creates nothing at its target",
  ignore: !POSIX,
  fn: async () => {
    await withTempDir(async (dir) => {
      await withTempDir(async (outside) => {
        const target = join(outside, "planted.txt");
        await Deno.symlink(target, join(dir, "notes.txt"));
        const message = await refused("notes.txt", dir);
        assertIncludes(message, "symbolic link");
        assertEquals(await exists(target), false);
      });
    });
  },
});

Deno.test({
  name:
    "save refuses a final component that is a symlink to an existing file and leaves that file untouched",
  ignore: !POSIX,
  fn: async () => {
    await withTempDir(async (dir) => {
      await withTempDir(async (outside) => {
        const target = join(outside, "bashrc");
        await Deno.writeTextFile(target, "precious");
        await Deno.symlink(target, join(dir, "notes.txt"));
        const message = await refused("notes.txt", dir);
        assertIncludes(message, "symbolic link");
        assertEquals(await Deno.readTextFile(target), "precious");
      });
    });
  },
});

Deno.test({
  name: "writeNewFile does not follow a symlink planted after the check",
  ignore: !POSIX,
  fn: async () => {
    await withTempDir(async (dir) => {
      await withTempDir(async (outside) => {
        const target = join(outside, "planted.txt");
        await Deno.symlink(target, join(dir, "notes.txt"));
        await assertRejects(
          () => writeNewFile(join(dir, "notes.txt"), "secret"),
          SaveRefused,
        );
        assertEquals(await exists(target), false);
      });
    });
  },
});

Deno.test("save refuses a missing parent directory and says to create it", async () => {
  await withTempDir(async (dir) => {
    const message = await refused("missing/notes.txt", dir);
    assertIncludes(message, join(dir, "missing"));
    assertIncludes(message, "does not exist; create it first");
    assertEquals(await exists(join(dir, "missing")), false);
  });
});

Deno.test({
  name:
    "save resolves a relative path against the real directory of a symlinked cwd",
  ignore: !POSIX,
  fn: async () => {
    await withTempDir(async (dir) => {
      await Deno.mkdir(join(dir, "real"));
      await Deno.symlink(join(dir, "real"), join(dir, "alias"));
      const path = await saveToFile("n.txt", "x", "t", join(dir, "alias"));
      assertEquals(path, join(dir, "real", "n.txt"));
      assertEquals(await Deno.readTextFile(path), "t");
    });
  },
});

Deno.test({
  name: "save creates files readable only by their owner (mode 0600)",
  ignore: !POSIX,
  fn: async () => {
    await withTempDir(async (dir) => {
      const byDefault = await saveToFile(null, "d.txt", "a", dir);
      const byPath = await saveToFile("p.jsonl", "x", "b", dir);
      for (const path of [byDefault, byPath]) {
        const mode = (await Deno.stat(path)).mode! & 0o777;
        assertEquals(mode.toString(8), "600", path);
      }
    });
  },
});

Deno.test("save refuses a path with a NUL byte", async () => {
  await withTempDir(async (dir) => {
    const message = await refused("a\0b.txt", dir);
    assertIncludes(message, "NUL");
  });
});

Deno.test("every save refusal names the path and says what to do instead", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "taken.txt"), "x");
    const cases: [string, string][] = [
      ["taken.txt", join(dir, "taken.txt")],
      ["../out.txt", "../out.txt"],
      ["missing/out.txt", join(dir, "missing")],
    ];
    for (const [requested, named] of cases) {
      const message = await refused(requested, dir);
      assertIncludes(message, named);
      assert(
        /choose another name|give a path without|create it first/.test(message),
        `no advice in: ${message}`,
      );
      assert(!message.includes("\n"), `more than one line: ${message}`);
    }
  });
});

Deno.test({
  name:
    "save writes nothing through a parent directory swapped for a symlink between the check and the create",
  ignore: !POSIX,
  fn: async () => {
    await withTempDir(async (dir) => {
      await withTempDir(async (outside) => {
        const inner = join(dir, "inner");
        await Deno.mkdir(inner);
        const error = await assertRejects(
          () =>
            saveToFile("inner/x.txt", "d.txt", "secret transcript", dir, {
              beforeCreate: async () => {
                await Deno.rename(inner, join(dir, "moved"));
                await Deno.symlink(outside, inner);
              },
            }),
          SaveRefused,
        );
        assertIncludes(error.message, "changed while saving");
        assertIncludes(error.message, "nothing was written");
        const planted = join(outside, "x.txt");
        // at most an empty file of ours: the transcript never went there
        if (await exists(planted)) {
          assertEquals(await Deno.readTextFile(planted), "");
          assertEquals((await Deno.stat(planted)).mode! & 0o777, 0o600);
        }
      });
    });
  },
});

Deno.test({
  name:
    "save writes nothing when a parent directory is swapped out and back around the create",
  ignore: !POSIX,
  fn: async () => {
    await withTempDir(async (dir) => {
      await withTempDir(async (outside) => {
        const inner = join(dir, "inner");
        const real = join(dir, "real");
        await Deno.mkdir(inner);
        const error = await assertRejects(
          () =>
            saveToFile("inner/x.txt", "d.txt", "secret transcript", dir, {
              beforeCreate: async () => {
                await Deno.rename(inner, real);
                await Deno.symlink(outside, inner);
              },
              afterCreate: async () => {
                await Deno.remove(inner);
                await Deno.rename(real, inner);
              },
            }),
          SaveRefused,
        );
        assertIncludes(error.message, "nothing was written");
        assertEquals(await exists(join(inner, "x.txt")), false);
        const planted = join(outside, "x.txt");
        if (await exists(planted)) {
          assertEquals(await Deno.readTextFile(planted), "");
        }
      });
    });
  },
});
