// pyconc/aiohttp/form_data.hpp -- FormData and RequestData: what a request's `data=` can be.
//
// Python: aiohttp.FormData, and the forms `data=` takes in session.post(url, data=...):
//   session.post(url, {.data = "raw body"});                            // str/bytes
//   session.post(url, {.data = {{"user", "alice"}, {"lang", "c++"}}});  // dict: urlencoded
//   aiohttp::FormData form;                                             // FormData()
//   form.add_field("file", bytes, {.content_type = "image/png", .filename = "a.png"});
//   session.post(url, {.data = form});                                  // multipart/form-data
// A form is sent as application/x-www-form-urlencoded unless a field has a filename or a
// content type (or multipart was asked for), then as multipart/form-data (built by libcurl's
// MIME API, boundary included). A raw string body gets Content-Type "text/plain;
// charset=utf-8" (Python's str) unless the request's headers name one.
//   session.post(url, {.data = aiohttp::FilePayload("big.iso")});       // open("big.iso", "rb")
//   session.post(url, {.data = aiohttp::StreamPayload(chunks())});      // a generator of bytes
// Differences: form values are strings (bytes); a streamed body is a pyconc::Generator
// (synchronous: C++ has no async generators).
//
// Thread safety: plain values.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/aiohttp/multidict.hpp"

namespace pyconc {
template <class T, class In>
class Generator;  // pyconc/generator.hpp
}

namespace pyconc::aiohttp {

// add_field()'s keyword arguments; at namespace scope for designated initializers.
struct FormFieldOptions {
  std::optional<std::string> content_type{};
  std::optional<std::string> filename{};
};

// One field of a FormData.
struct FormField {
  std::string name;
  std::string value;
  std::optional<std::string> content_type{};
  std::optional<std::string> filename{};
};

class FormData {
 public:
  FormData() = default;
  FormData(std::initializer_list<std::pair<std::string, std::string>> fields) {
    for (const auto& [k, v] : fields) add_field(k, v);
  }
  FormData(const MultiDict& fields) {  // NOLINT: a dict is a form, as in Python
    for (const auto& [k, v] : fields) add_field(k, v);
  }

  // Python: form.add_field(name, value, content_type=None, filename=None).
  void add_field(std::string name, std::string value, FormFieldOptions options = {}) {
    if (options.content_type || options.filename) multipart_ = true;
    fields_.push_back({std::move(name), std::move(value), std::move(options.content_type),
                       std::move(options.filename)});
  }
  // Sends the form as multipart/form-data even if no field needs it.
  void set_multipart(bool on = true) noexcept { multipart_ = on; }
  bool is_multipart() const noexcept { return multipart_; }
  const std::vector<FormField>& fields() const noexcept { return fields_; }
  bool empty() const noexcept { return fields_.empty(); }

  // The application/x-www-form-urlencoded body: name=value pairs joined by '&', each
  // percent-encoded with spaces as '+' (Python: urllib.parse.urlencode).
  std::string urlencoded() const;

 private:
  std::vector<FormField> fields_;
  bool multipart_ = false;
};

// A request body read from a file while it is sent, in constant memory. Python:
// data=open(path, "rb"). Content-Length is the file's size when the request starts;
// Content-Type is application/octet-stream unless the request's headers name one. The file is
// opened again for each redirect hop that keeps the body (307/308). OSError if it cannot be
// opened (raised by the request). The reads are plain read(2) calls on the loop's thread:
// meant for local files.
class FilePayload {
 public:
  explicit FilePayload(std::string path) : path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// A request body produced chunk by chunk while it is sent, with chunked transfer encoding (no
// Content-Length). Python: data=<a generator of bytes>. The generator runs on the loop's
// thread when libcurl wants more; an exception it throws fails the request with it. It is
// consumed once: a 307/308 redirect, which would send the body again, raises
// ClientPayloadError. Copies of a RequestData share the one generator.
class StreamPayload {
 public:
  using Chunks = pyconc::Generator<std::string, void>;
  explicit StreamPayload(Chunks chunks);  // needs <pyconc/generator.hpp> where it is called
  const std::shared_ptr<Chunks>& chunks() const noexcept { return chunks_; }

 private:
  std::shared_ptr<Chunks> chunks_;
};

// The body of a request given as `data=`: nothing, raw bytes, a form, a file or a stream.
class RequestData {
 public:
  RequestData() = default;
  RequestData(std::string bytes)  // NOLINT: implicit, like Python
      : kind_(Kind::bytes), bytes_(std::move(bytes)) {}
  RequestData(std::string_view bytes) : RequestData(std::string(bytes)) {}      // NOLINT
  RequestData(const char* bytes) : RequestData(std::string(bytes)) {}           // NOLINT
  RequestData(FormData form) : kind_(Kind::form), form_(std::move(form)) {}     // NOLINT
  RequestData(const MultiDict& form) : RequestData(FormData(form)) {}           // NOLINT
  RequestData(std::initializer_list<std::pair<std::string, std::string>> form)  // NOLINT
      : RequestData(FormData(form)) {}
  RequestData(FilePayload file)  // NOLINT: data=open(...)
      : kind_(Kind::file), bytes_(file.path()) {}
  RequestData(StreamPayload stream)  // NOLINT: data=generator
      : kind_(Kind::stream), stream_(std::move(stream)) {}

  bool has_value() const noexcept { return kind_ != Kind::none; }
  const std::string* bytes() const noexcept { return kind_ == Kind::bytes ? &bytes_ : nullptr; }
  const FormData* form() const noexcept { return kind_ == Kind::form ? &form_ : nullptr; }
  // The path of a FilePayload body, else null.
  const std::string* file() const noexcept { return kind_ == Kind::file ? &bytes_ : nullptr; }
  const StreamPayload* stream() const noexcept {
    return kind_ == Kind::stream ? &*stream_ : nullptr;
  }

 private:
  // One is used, as kind_ says (a std::variant would cost <variant> to every file).
  enum class Kind : unsigned char { none, bytes, form, file, stream };
  Kind kind_ = Kind::none;
  std::string bytes_;  // the bytes, or the file's path
  FormData form_;
  std::optional<StreamPayload> stream_;
};

}  // namespace pyconc::aiohttp
