// pyconc/multiprocessing/detail/input_range.hpp -- the range concepts the pools' map/imap and
// Array's constructors need, spelled with <iterator> alone.
//
// InputRange, SizedRange and range_ref_t mean what std::ranges::input_range, sized_range and
// range_reference_t mean; the standard declares those in <ranges>, which costs every file that
// includes a pool header more than the rest of the pool, while the customization points they
// are made of (std::ranges::begin/end/size, std::input_iterator) come with <iterator>.
// Thread safety: compile-time only.
#pragma once

#include <iterator>
#include <utility>

namespace pyconc::detail {

template <class R>
using range_iterator_t = decltype(std::ranges::begin(std::declval<R&>()));

template <class R>
concept InputRange = requires(R& r) {
  std::ranges::begin(r);
  std::ranges::end(r);
}
&&std::input_iterator<range_iterator_t<R>>;

template <class R>
concept SizedRange = InputRange<R> && requires(R& r) {
  std::ranges::size(r);
};

template <class R>
using range_ref_t = std::iter_reference_t<range_iterator_t<R>>;

}  // namespace pyconc::detail
