#include "tests/api/route_call.h"

#include "api/query.h"

namespace imaged::api::testing {

RecordingWriter call_route(const Router& router, Method method, const std::string& target) {
  const auto q = target.find('?');
  const std::string path = target.substr(0, q);
  auto m = router.resolve(method, path);
  Request req;
  req.method = method;
  req.target = target;
  req.path = m.path;
  req.params = m.params;
  req.version = m.version;
  req.versioned = m.versioned;
  if (q != std::string::npos) req.query = QueryParams::parse(target.substr(q + 1)).value();
  StringBodyReader body;
  req.body = &body;
  RecordingWriter w;
  m.handler(req, w);
  return w;
}

}  // namespace imaged::api::testing
