// A jest reporter that repeats, after the summary, that the browser tests were skipped (jest's own
// summary says only "N skipped", and the banner printed when they were collected scrolls away).
class LoudSkipReporter {
  onRunComplete(_contexts, results) {
    // Only tests skipped for want of a browser (describeWithBrowser names them so), not those a
    // -t filter left out.
    const skipped = results.testResults
      .flatMap((r) => r.testResults)
      .filter(
        (a) => a.status === 'pending' && a.ancestorTitles.some((t) => t.includes('[SKIPPED: no browser'))
      ).length;
    if (skipped > 0) {
      const line = '!'.repeat(100);
      process.stderr.write(
        `\n${line}\n!!! BROWSER TESTS SKIPPED: ${skipped} tests of the clinician page did not run (no browser started).\n` +
          `!!! Install Chromium (Debian: apt-get install chromium) or set CHROMIUM_PATH; RE_FHIR_BROWSER_REQUIRED=1 makes this a failure.\n${line}\n`
      );
    }
  }
}

module.exports = LoudSkipReporter;
