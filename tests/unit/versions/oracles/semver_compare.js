// Oracle for npm versions: node-semver's compare (strict parsing). "a<TAB>b" lines in, -1/0/1 or E out.
const semver = require(process.argv[2]);
const rl = require("readline").createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const [a, b] = line.split("\t");
  let out;
  try {
    out = String(semver.compare(a, b));
  } catch (e) {
    out = "E";
  }
  process.stdout.write(out + "\n");
});
