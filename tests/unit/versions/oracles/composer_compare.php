<?php
// Oracle for Packagist versions: composer/semver's VersionParser::normalize, then version_compare.
// "a<TAB>b" lines in, -1/0/1 or E out (E when either cannot be normalized or is a branch).
require $argv[1];
$parser = new Composer\Semver\VersionParser();
while (($line = fgets(STDIN)) !== false) {
    [$a, $b] = explode("\t", rtrim($line, "\n"), 2);
    try {
        $na = $parser->normalize($a);
        $nb = $parser->normalize($b);
        if (strpos($na, 'dev-') === 0 || strpos($nb, 'dev-') === 0) {
            echo "E\n";
        } else {
            echo version_compare($na, $nb), "\n";
        }
    } catch (Exception $e) {
        echo "E\n";
    }
    fflush(STDOUT);
}
