// Fused CPU kernels of the KAN layer (see kernels.py for the autograd wiring and shapes).
//
// A layer gathers, for every sample m and input i, the k + 1 coefficient rows of a
// table (R, I, P, O) starting at row first[m, i] of member r, and weighs them with the
// k + 1 basis values. Three kernels cover this product and every derivative of it:
//   contract:      y[m, o]       = sum_{i,c} v[m,i,c] t[r,i,first+c,o]
//   gather_dot:    z[m, i, c]    = sum_o     y[m,o]   t[r,i,first+c,o]
//   scatter_outer: t[r,i,first+c,o] += v[m,i,c] y[m,o]            (summed over m)
// Two more build the table from the coefficients (scale, pad, transpose) and take its
// adjoint, one evaluates the basis (or a derivative of it) on uniform knots, and one the
// basis and its first derivative on any knots.
// Every output element is written by one thread in a fixed order: results do not
// depend on the number of threads.

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <cstring>

namespace {

constexpr int64_t kMaxBasis = 16;  // k + 1 <= 16 in uniform_basis
constexpr int kLanes = 8;  // values per vector register group (GCC/Clang vector extension)
template <typename T> struct LanesOf;
template <> struct LanesOf<double> { typedef double type __attribute__((vector_size(8 * sizeof(double)))); };
template <> struct LanesOf<float> { typedef float type __attribute__((vector_size(8 * sizeof(float)))); };
template <typename T>
using Lanes = typename LanesOf<T>::type;

template <typename T>
inline Lanes<T> load(const T* p) {
  Lanes<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T>
inline void store(T* p, const Lanes<T>& v) {
  std::memcpy(p, &v, sizeof v);
}

// Calls fn(std::integral_constant<int, K>) for K = 2..6 (degrees 1..5, fully unrolled
// loops), fn(std::integral_constant<int, 0>) otherwise (K read at run time).
template <typename Fn>
inline void with_width(int64_t K, Fn&& fn) {
  switch (K) {
    case 2: fn(std::integral_constant<int, 2>{}); break;
    case 3: fn(std::integral_constant<int, 3>{}); break;
    case 4: fn(std::integral_constant<int, 4>{}); break;
    case 5: fn(std::integral_constant<int, 5>{}); break;
    case 6: fn(std::integral_constant<int, 6>{}); break;
    default: fn(std::integral_constant<int, 0>{});
  }
}

template <typename T, int KC>
void contract_sample(const T* v, const int64_t* first, const T* table, T* y,
                     int64_t r, int64_t m, int64_t I, int64_t K_, int64_t P, int64_t O) {
  const int64_t K = KC > 0 ? KC : K_;
  const T* weights = v + m * I * K;
  const int64_t* rows = first + m * I;
  const T* member = table + r * I * P * O;
  int64_t o0 = 0;
  for (; o0 + kLanes <= O; o0 += kLanes) {
    Lanes<T> acc = {};
    for (int64_t i = 0; i < I; ++i) {
      const T* row = member + (i * P + rows[i]) * O + o0;
      for (int64_t c = 0; c < K; ++c, row += O) acc += weights[i * K + c] * load(row);
    }
    store(y + m * O + o0, acc);
  }
  for (; o0 < O; ++o0) {
    T acc = 0;
    for (int64_t i = 0; i < I; ++i) {
      const T* row = member + (i * P + rows[i]) * O + o0;
      for (int64_t c = 0; c < K; ++c, row += O) acc += weights[i * K + c] * *row;
    }
    y[m * O + o0] = acc;
  }
}

// out[c] = sum_o g[o] rows[c * O + o], c < K; even and odd o in separate sums
// (twice the independent chains of multiply-adds).
template <typename T, int K>
inline void dots(const T* __restrict__ g, const T* __restrict__ rows, int64_t O, T* __restrict__ out) {
  T even[K] = {}, odd[K] = {};
  int64_t o = 0;
  for (; o + 2 <= O; o += 2) {
    const T g0 = g[o], g1 = g[o + 1];
    for (int c = 0; c < K; ++c) {
      even[c] += g0 * rows[c * O + o];
      odd[c] += g1 * rows[c * O + o + 1];
    }
  }
  if (o < O)
    for (int c = 0; c < K; ++c) even[c] += g[o] * rows[c * O + o];
  for (int c = 0; c < K; ++c) out[c] = even[c] + odd[c];
}

template <typename T>
inline T dots_one(const T* __restrict__ g, const T* __restrict__ row, int64_t O) {
  T acc = 0;
  for (int64_t o = 0; o < O; ++o) acc += g[o] * row[o];
  return acc;
}

template <typename T>
inline void axpy(T w, const T* x, T* y, int64_t n) {
  int64_t o = 0;
  for (; o + kLanes <= n; o += kLanes) store(y + o, load(y + o) + w * load(x + o));
  for (; o < n; ++o) y[o] += w * x[o];
}

void check(const torch::Tensor& values, const torch::Tensor& first, const torch::Tensor& table) {
  TORCH_CHECK(values.dim() == 4 && first.dim() == 3 && table.dim() == 4, "kanpaper kernels: bad ranks");
  TORCH_CHECK(values.is_contiguous() && first.is_contiguous() && table.is_contiguous(),
              "kanpaper kernels: inputs must be contiguous");
  TORCH_CHECK(first.scalar_type() == torch::kLong, "kanpaper kernels: first must be int64");
}

}  // namespace

// values (R,N,I,K), first (R,N,I), table (R,I,P,O) -> (R,N,O)
torch::Tensor contract(torch::Tensor values, torch::Tensor first, torch::Tensor table) {
  check(values, first, table);
  const int64_t R = values.size(0), N = values.size(1), I = values.size(2), K = values.size(3);
  const int64_t P = table.size(2), O = table.size(3);
  auto out = torch::empty({R, N, O}, values.options());
  AT_DISPATCH_FLOATING_TYPES(values.scalar_type(), "contract", [&] {
    const scalar_t* v = values.data_ptr<scalar_t>();
    const int64_t* f = first.data_ptr<int64_t>();
    const scalar_t* t = table.data_ptr<scalar_t>();
    scalar_t* y = out.data_ptr<scalar_t>();
    with_width(K, [&](auto width) {
      at::parallel_for(0, R * N, 64, [&](int64_t lo, int64_t hi) {
        for (int64_t m = lo; m < hi; ++m) contract_sample<scalar_t, width()>(v, f, t, y, m / N, m, I, K, P, O);
      });
    });
  });
  return out;
}

// grad (R,N,O), first (R,N,I), table (R,I,P,O) -> (R,N,I,K)
torch::Tensor gather_dot(torch::Tensor grad, torch::Tensor first, torch::Tensor table, int64_t K) {
  check(grad.unsqueeze(-1), first, table);
  const int64_t R = grad.size(0), N = grad.size(1), O = grad.size(2);
  const int64_t I = table.size(1), P = table.size(2);
  auto out = torch::empty({R, N, I, K}, grad.options());
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "gather_dot", [&] {
    const scalar_t* g = grad.data_ptr<scalar_t>();
    const int64_t* f = first.data_ptr<int64_t>();
    const scalar_t* t = table.data_ptr<scalar_t>();
    scalar_t* z = out.data_ptr<scalar_t>();
    with_width(K, [&](auto width) {
      at::parallel_for(0, R * N, 64, [&](int64_t lo, int64_t hi) {
        for (int64_t m = lo; m < hi; ++m) {
          const scalar_t* member = t + (m / N) * I * P * O;
          for (int64_t i = 0; i < I; ++i) {
            const scalar_t* rows = member + (i * P + f[m * I + i]) * O;
            scalar_t* zi = z + (m * I + i) * K;
            if constexpr (width() > 0) {  // k + 1 independent sums in registers
              dots<scalar_t, width()>(g + m * O, rows, O, zi);
            } else {
              for (int64_t c = 0; c < K; ++c) zi[c] = dots_one(g + m * O, rows + c * O, O);
            }
          }
        }
      });
    });
  });
  return out;
}

// values (R,N,I,K), grad (R,N,O), first (R,N,I) -> (R,I,P,O)
torch::Tensor scatter_outer(torch::Tensor values, torch::Tensor grad, torch::Tensor first, int64_t P) {
  TORCH_CHECK(grad.dim() == 3 && grad.is_contiguous(), "kanpaper kernels: bad grad");
  const int64_t R = values.size(0), N = values.size(1), I = values.size(2), K = values.size(3);
  const int64_t O = grad.size(2);
  auto out = torch::empty({R, I, P, O}, values.options());
  check(values, first, out);
  AT_DISPATCH_FLOATING_TYPES(values.scalar_type(), "scatter_outer", [&] {
    const scalar_t* v = values.data_ptr<scalar_t>();
    const scalar_t* g = grad.data_ptr<scalar_t>();
    const int64_t* f = first.data_ptr<int64_t>();
    scalar_t* t = out.data_ptr<scalar_t>();
    with_width(K, [&](auto width) {
      const int64_t Kc = width() > 0 ? width() : K;
      at::parallel_for(0, R * I, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t ri = lo; ri < hi; ++ri) {   // one (member, input) block per task: no races
          const int64_t r = ri / I, i = ri % I;
          scalar_t* block = t + ri * P * O;
          std::fill(block, block + P * O, scalar_t(0));
          for (int64_t n = 0; n < N; ++n) {
            const int64_t m = r * N + n;
            scalar_t* row = block + f[m * I + i] * O;
            for (int64_t c = 0; c < Kc; ++c, row += O) axpy(v[(m * I + i) * Kc + c], g + m * O, row, O);
          }
        }
      });
    });
  });
  return out;
}

// coef (R,I,O,B), scale (R,I,O) -> table (R,I,B+2*pad,O): table[r,i,pad+b,o] =
// scale[r,i,o] coef[r,i,o,b], zero rows above and below.
torch::Tensor make_table(torch::Tensor coef, torch::Tensor scale, int64_t pad) {
  TORCH_CHECK(coef.dim() == 4 && scale.dim() == 3 && coef.is_contiguous() && scale.is_contiguous(),
              "kanpaper kernels: bad table inputs");
  const int64_t R = coef.size(0), I = coef.size(1), O = coef.size(2), B = coef.size(3), P = B + 2 * pad;
  auto table = torch::empty({R, I, P, O}, coef.options());
  AT_DISPATCH_FLOATING_TYPES(coef.scalar_type(), "make_table", [&] {
    const scalar_t* c = coef.data_ptr<scalar_t>();
    const scalar_t* w = scale.data_ptr<scalar_t>();
    scalar_t* t = table.data_ptr<scalar_t>();
    at::parallel_for(0, R * I, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t ri = lo; ri < hi; ++ri) {
        scalar_t* block = t + ri * P * O;
        std::fill(block, block + pad * O, scalar_t(0));
        std::fill(block + (pad + B) * O, block + P * O, scalar_t(0));
        const scalar_t* weights = w + ri * O;
        const scalar_t* columns = c + ri * O * B;
        for (int64_t b = 0; b < B; ++b) {   // rows written in order; O columns read in step
          scalar_t* row = block + (pad + b) * O;
          for (int64_t o = 0; o < O; ++o) row[o] = weights[o] * columns[o * B + b];
        }
      }
    });
  });
  return table;
}

// The adjoint of make_table at (coef, scale): grad (R,I,P,O) -> (d_coef (R,I,O,B), d_scale (R,I,O)).
std::vector<torch::Tensor> table_backward(torch::Tensor grad, torch::Tensor coef, torch::Tensor scale, int64_t pad) {
  TORCH_CHECK(grad.dim() == 4 && grad.is_contiguous() && coef.is_contiguous() && scale.is_contiguous(),
              "kanpaper kernels: bad table gradient inputs");
  const int64_t R = coef.size(0), I = coef.size(1), O = coef.size(2), B = coef.size(3), P = grad.size(2);
  auto d_coef = torch::empty_like(coef);
  auto d_scale = torch::empty_like(scale);
  AT_DISPATCH_FLOATING_TYPES(coef.scalar_type(), "table_backward", [&] {
    const scalar_t* g = grad.data_ptr<scalar_t>();
    const scalar_t* c = coef.data_ptr<scalar_t>();
    const scalar_t* w = scale.data_ptr<scalar_t>();
    scalar_t* dc = d_coef.data_ptr<scalar_t>();
    scalar_t* dw = d_scale.data_ptr<scalar_t>();
    at::parallel_for(0, R * I, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t ri = lo; ri < hi; ++ri) {
        const scalar_t* block = g + (ri * P + pad) * O;
        for (int64_t o = 0; o < O; ++o) {
          const int64_t edge = ri * O + o;
          const scalar_t weight = w[edge];
          scalar_t acc = 0;
          for (int64_t b = 0; b < B; ++b) {
            const scalar_t gb = block[b * O + o];
            dc[edge * B + b] = weight * gb;
            acc += c[edge * B + b] * gb;
          }
          dw[edge] = acc;
        }
      }
    });
  });
  return {d_coef, d_scale};
}

// The basis on uniform knots. x (R,N,I); origin, spacing (R,I): knots t_j = origin + j *
// spacing, j < n_knots. pieces (K,K): pieces[p, c] = coefficient of u^p, u = (x - t_j) /
// spacing in [0, 1), in the order-th u-derivative of the basis c touched on [t_j, t_j+1);
// values are scaled by spacing^-order (the chain rule). Without weights, writes first
// (R,N,I) and the K values (R,N,I,K); with weights (R,N,I,K), writes their dot product
// with the K values (R,N,I) instead.
void basis_kernel(const torch::Tensor& x, const torch::Tensor& origin, const torch::Tensor& spacing,
                  const torch::Tensor& pieces, int64_t n_knots, int64_t order, const torch::Tensor* weights,
                  torch::Tensor* first, torch::Tensor* values, torch::Tensor* dots) {
  TORCH_CHECK(x.dim() == 3 && x.is_contiguous() && origin.is_contiguous() && spacing.is_contiguous() &&
              pieces.is_contiguous(), "kanpaper kernels: bad basis inputs");
  const int64_t R = x.size(0), N = x.size(1), I = x.size(2), K = pieces.size(0);
  TORCH_CHECK(K <= kMaxBasis, "kanpaper kernels: degree too high");
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "uniform_basis", [&] {
    const scalar_t* xs = x.data_ptr<scalar_t>();
    const scalar_t* t0 = origin.data_ptr<scalar_t>();
    const scalar_t* h = spacing.data_ptr<scalar_t>();
    const scalar_t* M = pieces.data_ptr<scalar_t>();
    const scalar_t* w = weights ? weights->data_ptr<scalar_t>() : nullptr;
    int64_t* f = first ? first->data_ptr<int64_t>() : nullptr;
    scalar_t* out = values ? values->data_ptr<scalar_t>() : dots->data_ptr<scalar_t>();
    with_width(K, [&](auto width) {
      const int64_t Kc = width() > 0 ? width() : K;
      at::parallel_for(0, R * N, 256, [&](int64_t lo, int64_t hi) {
        scalar_t matrix[kMaxBasis * kMaxBasis], powers[kMaxBasis], b[kMaxBasis];
        std::copy(M, M + Kc * Kc, matrix);
        for (int64_t m = lo; m < hi; ++m) {
          const int64_t r = m / N;
          for (int64_t i = 0; i < I; ++i) {
            const int64_t at = m * I + i;
            const scalar_t step = h[r * I + i];
            const scalar_t s = (xs[at] - t0[r * I + i]) / step;
            const scalar_t interval = std::floor(s);
            const scalar_t u = s - interval;
            powers[0] = 1;
            for (int64_t d = 0; d < order; ++d) powers[0] /= step;
            for (int64_t p = 1; p < Kc; ++p) powers[p] = powers[p - 1] * u;
            for (int64_t c = 0; c < Kc; ++c) {
              scalar_t acc = 0;
              for (int64_t p = 0; p < Kc; ++p) acc += powers[p] * matrix[p * Kc + c];
              b[c] = acc;
            }
            if (w) {
              scalar_t acc = 0;
              for (int64_t c = 0; c < Kc; ++c) acc += w[at * Kc + c] * b[c];
              out[at] = acc;
            } else {
              const scalar_t clamped = std::min(std::max(interval, scalar_t(-1)), scalar_t(n_knots - 1));
              f[at] = static_cast<int64_t>(clamped) + 1;
              std::copy(b, b + Kc, out + at * Kc);
            }
          }
        }
      });
    });
  });
}

// -> (first (R,N,I) int64, values (R,N,I,K)); see basis_kernel.
std::vector<torch::Tensor> uniform_basis(torch::Tensor x, torch::Tensor origin, torch::Tensor spacing,
                                         torch::Tensor pieces, int64_t n_knots, int64_t order) {
  auto first = torch::empty(x.sizes(), x.options().dtype(torch::kLong));
  auto values = torch::empty({x.size(0), x.size(1), x.size(2), pieces.size(0)}, x.options());
  basis_kernel(x, origin, spacing, pieces, n_knots, order, nullptr, &first, &values, nullptr);
  return {first, values};
}

// -> (R,N,I): sum_c weights[..., c] * values[..., c]; see basis_kernel.
torch::Tensor uniform_basis_dot(torch::Tensor x, torch::Tensor origin, torch::Tensor spacing,
                                torch::Tensor pieces, int64_t n_knots, int64_t order, torch::Tensor weights) {
  TORCH_CHECK(weights.is_contiguous() && weights.dim() == 4 && weights.size(3) == pieces.size(0),
              "kanpaper kernels: bad basis weights");
  auto dots = torch::empty(x.sizes(), x.options());
  basis_kernel(x, origin, spacing, pieces, n_knots, order, &weights, nullptr, nullptr, &dots);
  return dots;
}

// The basis on any increasing knots. x (R,N,I), knots (R,I,T) -> first (R,N,I) int64, the
// K = k + 1 values (R,N,I,K) and their x-derivatives (R,N,I,K). The interval is the largest
// j with t_j <= x (-1 below the knots), first = j + 1; the values are the Cox-de Boor
// recursion on the knots extended by k + 1 phantom knots each side at the end spacings, as
// splines.local_basis computes them, and the derivatives follow the recursion by the
// product rule.
std::vector<torch::Tensor> knot_basis(torch::Tensor x, torch::Tensor knots, int64_t K) {
  TORCH_CHECK(x.dim() == 3 && knots.dim() == 3 && x.is_contiguous() && knots.is_contiguous() &&
              x.size(0) == knots.size(0) && x.size(2) == knots.size(1) && knots.size(2) >= 2 &&
              x.scalar_type() == knots.scalar_type(), "kanpaper kernels: bad knot_basis inputs");
  TORCH_CHECK(K >= 1 && K <= kMaxBasis, "kanpaper kernels: degree too high");
  const int64_t R = x.size(0), N = x.size(1), I = x.size(2), T = knots.size(2), k = K - 1;
  auto first = torch::empty(x.sizes(), x.options().dtype(torch::kLong));
  auto values = torch::empty({R, N, I, K}, x.options());
  auto slopes = torch::empty({R, N, I, K}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "knot_basis", [&] {
    const scalar_t* xs = x.data_ptr<scalar_t>();
    const scalar_t* ts = knots.data_ptr<scalar_t>();
    int64_t* f = first.data_ptr<int64_t>();
    scalar_t* out = values.data_ptr<scalar_t>();
    scalar_t* dout = slopes.data_ptr<scalar_t>();
    at::parallel_for(0, R * N, 256, [&](int64_t lo, int64_t hi) {
      // window[s] = t_{j-k+s}; b, db: the values and derivatives of one level with a zero on each side
      scalar_t window[2 * kMaxBasis], w[kMaxBasis + 1], dw[kMaxBasis + 1];
      scalar_t b[kMaxBasis + 2], db[kMaxBasis + 2], nb[kMaxBasis + 2], ndb[kMaxBasis + 2];
      for (int64_t m = lo; m < hi; ++m) {
        const int64_t r = m / N;
        for (int64_t i = 0; i < I; ++i) {
          const int64_t at = m * I + i;
          const scalar_t* t = ts + (r * I + i) * T;
          const scalar_t xv = xs[at];
          const int64_t j = std::upper_bound(t, t + T, xv) - t - 1;
          const scalar_t h_lo = t[1] - t[0], h_hi = t[T - 1] - t[T - 2];
          for (int64_t s = 0; s < 2 * k + 2; ++s) {
            const int64_t q = j - k + s;
            window[s] = q < 0 ? t[0] - h_lo * scalar_t(-q)
                      : q >= T ? t[T - 1] + h_hi * scalar_t(q - T + 1) : t[q];
          }
          b[0] = 0; b[1] = 1; b[2] = 0;
          db[0] = 0; db[1] = 0; db[2] = 0;
          for (int64_t d = 1; d <= k; ++d) {
            for (int64_t c = 0; c <= d + 1; ++c) {   // t_m and t_{m+d}, m = j - d + c
              dw[c] = scalar_t(1) / (window[k + c] - window[k - d + c]);
              w[c] = (xv - window[k - d + c]) * dw[c];
            }
            nb[0] = 0; ndb[0] = 0;
            for (int64_t c = 0; c <= d; ++c) {
              nb[c + 1] = w[c] * b[c] + (1 - w[c + 1]) * b[c + 1];
              ndb[c + 1] = dw[c] * b[c] + w[c] * db[c] - dw[c + 1] * b[c + 1] + (1 - w[c + 1]) * db[c + 1];
            }
            nb[d + 2] = 0; ndb[d + 2] = 0;
            std::copy(nb, nb + d + 3, b);
            std::copy(ndb, ndb + d + 3, db);
          }
          f[at] = j + 1;
          std::copy(b + 1, b + 1 + K, out + at * K);
          std::copy(db + 1, db + 1 + K, dout + at * K);
        }
      }
    });
  });
  return {first, values, slopes};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("contract", &contract, "sum over inputs and k+1 rows of basis values times gathered rows");
  m.def("gather_dot", &gather_dot, "dot products of output vectors with gathered rows");
  m.def("scatter_outer", &scatter_outer, "scatter-add of basis values times output vectors");
  m.def("make_table", &make_table, "scaled coefficients, padded and transposed to rows of outputs");
  m.def("table_backward", &table_backward, "gradients of make_table for coefficients and scales");
  m.def("uniform_basis", &uniform_basis, "first touched basis and k+1 basis values on uniform knots");
  m.def("uniform_basis_dot", &uniform_basis_dot, "basis values on uniform knots dotted with weights");
  m.def("knot_basis", &knot_basis, "first touched basis, k+1 basis values and their x-derivatives on any knots");
}
