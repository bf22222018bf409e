package benchmarks

import "fmt"

// Example drives sess on net/http the way the benchmarks do: in process,
// one prepared request re-sent with the cookie the last response set.
func Example() {
	s, err := startNetHTTPSess()
	if err != nil {
		panic(err)
	}
	defer s.close()
	c := s.newClient(pathHit)
	for range 3 {
		c.do()
		c.follow()
		status, body, _ := c.last()
		fmt.Println(status, body)
	}
	// Output:
	// 200 {"counter":1}
	// 200 {"counter":2}
	// 200 {"counter":3}
}
