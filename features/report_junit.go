package features

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// JUnit XML as Jenkins and GitLab read it (testdata/schemas/jenkins-junit.xsd):
// one testsuite per feature, one testcase per scenario or outline row,
// classname the feature's name. Times are seconds; a suite's time is the
// sum of its cases' and the run's the sum of its suites', so that they add
// up although scenarios run concurrently (wall time is in the HTML report).

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Disabled int          `xml:"disabled,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Package   string      `xml:"package,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *string       `xml:"skipped"`
	Error     *junitProblem `xml:"error"`
	Failure   *junitProblem `xml:"failure"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", max(d, 0).Seconds())
}

func renderJUnit(res *runResults) ([]byte, error) {
	out := junitSuites{Name: "m365snow conformance"}
	var total time.Duration
	for _, f := range res.features {
		s := junitSuite{Name: f.name, Package: f.uri, Timestamp: res.started.UTC().Format("2006-01-02T15:04:05")}
		var sum time.Duration
		for _, sc := range f.scenarios {
			c := junitCase{Name: sc.name, Classname: f.name, Time: seconds(sc.duration)}
			sum += max(sc.duration, 0)
			switch sc.status {
			case "failed":
				c.Failure = &junitProblem{Message: sc.message, Type: "failed step: " + sc.failedStep(), Text: sc.detail}
				s.Failures++
			case "undefined", "pending":
				// Strict: a step without a definition, or pending, fails the
				// run; JUnit calls that an error rather than a failed check.
				c.Error = &junitProblem{Message: sc.message, Type: sc.status + " step: " + sc.failedStep(), Text: sc.detail}
				s.Errors++
			case "skipped":
				reason := sc.message
				c.Skipped = &reason
				s.Skipped++
			}
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		s.Time = seconds(sum)
		total += sum
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Disabled += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	out.Time = seconds(total)
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

// failedStep is the text of the first step that did not pass.
func (s *scenarioResult) failedStep() string {
	for _, st := range s.steps {
		if st.status != "passed" {
			return strings.TrimSpace(st.keyword) + " " + st.text
		}
	}
	return ""
}
