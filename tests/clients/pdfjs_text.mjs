// Reads PDFs with pdf.js, the reader of Firefox and of many web viewers, as a viewer does: every page's
// content (fonts and pictures included), its text, links and tags, and the document's outline and
// destinations. Prints one JSON object: {"<file>": {"pages": [text of each page], "problems": [...]}},
// where a problem is whatever pdf.js threw or warned of, prefixed with the page it was reading.
//
// Usage: node tests/clients/pdfjs_text.mjs FILE.pdf...   (pdf.js is installed by scripts/bootstrap.sh --test)
import { readFile } from "node:fs/promises";

let heard = [];
for (const level of ["log", "info", "warn", "error"]) {
  console[level] = (...parts) => heard.push(parts.join(" "));
}
function hear() {
  const said = heard;
  heard = [];
  return said;
}

const pdfjs = await import(new URL("../../tools/pdfjs/node_modules/pdfjs-dist/legacy/build/pdf.mjs", import.meta.url));
// Nothing pdf.js says is ignored, not even as it loads: with the canvas package that npm installs beside it
// (@napi-rs/canvas, which gives Node.js what a browser has) it has nothing to warn of there.
const loading = hear();

// pdf.js gives a page's text as runs, each placed where it is drawn, and starts a run where the font changes
// or the text jumps elsewhere on the page. A viewer shows each run at its place; in one string, two runs
// are one word when the second starts where the first ends (a bold word, then its full stop) and are
// apart otherwise (a map's region name, then the number drawn beside it).
function text(items) {
  let joined = "";
  let end = null;
  for (const item of items) {
    const [a, b, , , x, y] = item.transform;
    const size = Math.hypot(a, b);
    const continues = end !== null && Math.abs(y - end.y) < size / 10 && Math.abs(x - end.x) < size / 10;
    joined += (end === null || continues ? "" : " ") + item.str + (item.hasEOL ? "\n" : "");
    end = item.hasEOL ? null : { x: x + item.width, y };
  }
  return joined;
}

async function read(file) {
  const pages = [];
  const problems = loading.map((line) => `loading pdf.js: ${line}`);
  let where = "document";
  const noted = (said) => problems.push(...said.map((line) => `${where}: ${line}`));
  try {
    const task = pdfjs.getDocument({
      data: new Uint8Array(await readFile(file)),
      verbosity: pdfjs.VerbosityLevel.WARNINGS,
      stopAtErrors: true, // fail where pdf.js would otherwise repair or skip what it cannot parse
      useSystemFonts: false, // every font is embedded: one that is not must not be found on the machine
    });
    const document = await task.promise;
    await document.getOutline();
    await document.getDestinations();
    await document.getMetadata();
    noted(hear());
    for (let number = 1; number <= document.numPages; number++) {
      where = `page ${number}`;
      const page = await document.getPage(number);
      await page.getOperatorList(); // what drawing the page reads: its content, fonts and pictures
      const content = await page.getTextContent();
      pages.push(text(content.items));
      await page.getAnnotations();
      await page.getStructTree();
      page.cleanup();
      noted(hear());
    }
    await document.destroy();
  } catch (error) {
    noted([...hear(), `${error?.name ?? "Error"}: ${error?.message ?? error}`]);
  }
  return { pages, problems };
}

const found = {};
for (const file of process.argv.slice(2)) {
  found[file] = await read(file);
}
process.stdout.write(JSON.stringify(found));
