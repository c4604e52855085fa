// DefaultInitAllocator: a std::allocator whose value-less construct() default-initializes, so
// std::vector<char, DefaultInitAllocator<char>>::resize() leaves new bytes as they are instead
// of zeroing them. For large I/O buffers: the pages of a fresh allocation (glibc maps blocks
// over 128 KiB from the kernel) are then touched only when data is written into them, not all
// at once by the zeroing (a 4 MiB read buffer was 1,024 page faults, about 10 ms here, before a
// small capture's first line).
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace shadow {

template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };

  DefaultInitAllocator() noexcept = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}

  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <class T, class U>
bool operator==(const DefaultInitAllocator<T>&, const DefaultInitAllocator<U>&) noexcept {
  return true;
}

}  // namespace shadow
