#include "client/progress.h"

#include <algorithm>

#include "client/format.h"

namespace imaged::client {

Result<ProgressMode> parse_progress_mode(const std::string& name, bool is_tty) {
  if (name == "auto" || name.empty()) return is_tty ? ProgressMode::Tty : ProgressMode::Plain;
  if (name == "tty") return ProgressMode::Tty;
  if (name == "plain") return ProgressMode::Plain;
  if (name == "json") return ProgressMode::Json;
  if (name == "quiet") return ProgressMode::Quiet;
  return fail(Errc::InvalidArgument,
              "invalid --progress \"" + name + "\": use auto, tty, plain, json or quiet");
}

std::string progress_bar(std::int64_t current, std::int64_t total, int width) {
  if (total <= 0) return "";
  double frac = std::clamp(static_cast<double>(current) / static_cast<double>(total), 0.0, 1.0);
  int filled = static_cast<int>(frac * width);
  std::string bar = "[";
  for (int i = 0; i < width; ++i) bar += i < filled ? '=' : (i == filled ? '>' : ' ');
  return bar + "]";
}

ProgressRenderer::ProgressRenderer(std::ostream& out, ProgressMode mode,
                                   std::function<Clock::time_point()> now,
                                   Clock::duration plain_interval)
    : out_(out), mode_(mode), now_(std::move(now)), plain_interval_(plain_interval) {
  start_ = now_();
}

void ProgressRenderer::feed(std::string_view bytes) {
  pending_.append(bytes);
  std::size_t pos;
  while ((pos = pending_.find('\n')) != std::string::npos) {
    std::string line = pending_.substr(0, pos);
    pending_.erase(0, pos + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    handle(j);
  }
}

ProgressRenderer::Layer& ProgressRenderer::layer(const std::string& id) {
  for (auto& l : layers_)
    if (l.id == id) return l;
  layers_.push_back(Layer{.id = id, .started = now_(), .last_plain = now_()});
  lines_.push_back("#" + std::to_string(layers_.size() - 1));
  return layers_.back();
}

namespace {
bool is_final(const std::string& status) {
  return status == "Pull complete" || status == "Already exists" || status == "Pushed" ||
         status == "Layer already exists" || status.starts_with("Mounted from") ||
         status == "Loading layer done";
}
bool is_transfer(const std::string& status) {
  return status == "Downloading" || status == "Pushing" || status == "Extracting" ||
         status == "Loading layer";
}
}  // namespace

void ProgressRenderer::handle(const nlohmann::json& m) {
  if (!m.is_object()) return;
  if (m.contains("errorDetail") || m.contains("error")) {
    std::string msg;
    if (m.contains("errorDetail") && m["errorDetail"].is_object() &&
        m["errorDetail"].contains("message"))
      msg = m["errorDetail"]["message"].get<std::string>();
    else if (m.contains("error") && m["error"].is_string())
      msg = m["error"].get<std::string>();
    if (!error_) error_ = msg;
    if (mode_ == ProgressMode::Json) out_ << m.dump() << "\n" << std::flush;
    return;
  }
  if (m.contains("aux")) aux_ = m["aux"];
  if (m.contains("stream") && m["stream"].is_string()) streams_.push_back(m["stream"]);
  if (mode_ == ProgressMode::Json) {
    out_ << m.dump() << "\n" << std::flush;
    return;
  }
  if (mode_ == ProgressMode::Quiet) return;
  std::string status = m.value("status", "");
  std::string id = m.value("id", "");
  bool has_detail = m.contains("progressDetail") && m["progressDetail"].is_object() &&
                    m["progressDetail"].contains("total");
  // Layer ids are 12 hex characters; other ids (a tag, a ref) head a plain line.
  bool is_layer = id.size() == 12 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!is_layer) {
    if (status.empty()) {
      if (m.contains("stream") && mode_ == ProgressMode::Plain) {
        std::string s = m["stream"];
        out_ << s << (s.ends_with("\n") ? "" : "\n");
      } else if (m.contains("stream")) {
        std::string s = m["stream"];
        while (!s.empty() && s.back() == '\n') s.pop_back();
        lines_.push_back(s);
        dirty_ = true;
        redraw(true);
      }
      return;
    }
    std::string text = id.empty() ? status : id + ": " + status;
    if (mode_ == ProgressMode::Plain) {
      out_ << text << "\n" << std::flush;
    } else {
      lines_.push_back(text);
      dirty_ = true;
      redraw(true);
    }
    return;
  }
  Layer& l = layer(id);
  l.status = status;
  if (has_detail) {
    l.current = m["progressDetail"].value("current", std::int64_t{0});
    l.total = m["progressDetail"].value("total", std::int64_t{0});
  }
  bool final = is_final(status);
  if (mode_ == ProgressMode::Plain) {
    if (final && !l.done) {
      l.done = true;
      out_ << id << ": " << status << "\n" << std::flush;
    } else if (is_transfer(status) && l.total > 0 && now_() - l.last_plain >= plain_interval_) {
      l.last_plain = now_();
      out_ << id << ": " << status << " " << human_size(static_cast<double>(l.current)) << "/"
           << human_size(static_cast<double>(l.total)) << " ("
           << (l.current * 100 / std::max<std::int64_t>(l.total, 1)) << "%)\n"
           << std::flush;
    }
    return;
  }
  if (final) l.done = true;
  dirty_ = true;
  redraw(final);
}

std::string ProgressRenderer::layer_line(const Layer& l) const {
  std::string s = l.id + ": " + l.status;
  if (!l.done && l.total > 0 && is_transfer(l.status)) {
    s += " " + progress_bar(l.current, l.total) + " " + human_size(static_cast<double>(l.current)) +
         "/" + human_size(static_cast<double>(l.total));
  }
  return s;
}

std::string ProgressRenderer::total_line() const {
  std::int64_t current = 0, total = 0;
  for (auto& l : layers_) {
    total += l.total;
    current += l.done ? l.total : l.current;
  }
  double secs = std::chrono::duration<double>(now_() - start_).count();
  double rate = secs > 0 ? static_cast<double>(current) / secs : 0;
  std::string s = "Total: " + human_size(static_cast<double>(current)) + "/" +
                  human_size(static_cast<double>(total));
  if (rate > 0) s += "  " + human_size(rate) + "/s";
  if (rate > 0 && total > current)
    s += "  ETA " +
         human_duration(static_cast<std::int64_t>(static_cast<double>(total - current) / rate));
  return s;
}

void ProgressRenderer::redraw(bool force) {
  if (mode_ != ProgressMode::Tty || !dirty_) return;
  auto now = now_();
  if (!force && drawn_ > 0 && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  dirty_ = false;
  std::string buf;
  if (drawn_ > 0) buf += "\x1b[" + std::to_string(drawn_) + "A";
  std::size_t count = 0;
  for (auto& line : lines_) {
    std::string text =
        line.starts_with("#") ? layer_line(layers_[std::stoul(line.substr(1))]) : line;
    buf += "\r\x1b[2K" + text + "\n";
    ++count;
  }
  if (!layers_.empty()) {
    buf += "\r\x1b[2K" + total_line() + "\n";
    ++count;
  }
  drawn_ = count;
  out_ << buf << std::flush;
}

void ProgressRenderer::finish() {
  if (!pending_.empty()) feed("\n");
  if (mode_ == ProgressMode::Tty) {
    dirty_ = true;
    redraw(true);
  } else if (mode_ == ProgressMode::Plain && !layers_.empty()) {
    std::int64_t total = 0;
    for (auto& l : layers_) total += l.total;
    double secs = std::chrono::duration<double>(now_() - start_).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1fs", secs);
    out_ << "Summary: " << layers_.size() << " layer" << (layers_.size() == 1 ? "" : "s") << ", "
         << human_size(static_cast<double>(total)) << " in " << buf << "\n"
         << std::flush;
  }
}

}  // namespace imaged::client
