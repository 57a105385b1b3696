// The cases of `tests/methods.rs`: one function per method and receiver kind, and its test.

// Scalar methods on `f64`.
#[differentiate]
fn s_exp(x: f64) -> f64 { x.exp() }
case!(grad s_exp / s_exp_vjp / s_exp_fwd / s_exp_is_the_primal: (x: f64 = s()) -> f64);
#[differentiate]
fn s_sin(x: f64) -> f64 { x.sin() }
case!(grad s_sin / s_sin_vjp / s_sin_fwd / s_sin_is_the_primal: (x: f64 = s()) -> f64);
#[differentiate]
fn s_cos(x: f64) -> f64 { x.cos() }
case!(grad s_cos / s_cos_vjp / s_cos_fwd / s_cos_is_the_primal: (x: f64 = s()) -> f64);
#[differentiate]
fn s_tan(x: f64) -> f64 { x.tan() }
case!(grad s_tan / s_tan_vjp / s_tan_fwd / s_tan_is_the_primal: (x: f64 = s()) -> f64);
#[differentiate]
fn s_tanh(x: f64) -> f64 { x.tanh() }
case!(grad s_tanh / s_tanh_vjp / s_tanh_fwd / s_tanh_is_the_primal: (x: f64 = s()) -> f64);
#[differentiate]
fn s_abs(x: f64) -> f64 { x.abs() }
case!(grad s_abs / s_abs_vjp / s_abs_fwd / s_abs_is_the_primal: (x: f64 = s()) -> f64);
#[differentiate]
fn s_recip(x: f64) -> f64 { x.recip() }
case!(grad s_recip / s_recip_vjp / s_recip_fwd / s_recip_is_the_primal: (x: f64 = s()) -> f64);
#[differentiate]
fn s_clone(x: f64) -> f64 { x.clone() }
case!(grad s_clone / s_clone_vjp / s_clone_fwd / s_clone_is_the_primal: (x: f64 = s()) -> f64);
#[differentiate]
fn s_ln(x: f64) -> f64 { x.ln() }
case!(grad s_ln / s_ln_vjp / s_ln_fwd / s_ln_is_the_primal: (x: f64 = s(), +) -> f64);
#[differentiate]
fn s_sqrt(x: f64) -> f64 { x.sqrt() }
case!(grad s_sqrt / s_sqrt_vjp / s_sqrt_fwd / s_sqrt_is_the_primal: (x: f64 = s(), +) -> f64);
#[differentiate]
fn s_powi(x: f64) -> f64 { x.powi(3) }
case!(grad s_powi / s_powi_vjp / s_powi_fwd / s_powi_is_the_primal: (x: f64 = s()) -> f64);
#[differentiate]
fn s_powf(x: f64, y: f64) -> f64 { x.powf(y) }
case!(grad s_powf / s_powf_vjp / s_powf_fwd / s_powf_is_the_primal: (x: f64 = s(), +; y: f64 = s()) -> f64);
#[differentiate]
fn s_max(x: f64, y: f64) -> f64 { x.max(y) }
case!(grad s_max / s_max_vjp / s_max_fwd / s_max_is_the_primal: (x: f64 = s(); y: f64 = s()) -> f64);
#[differentiate]
fn s_min(x: f64, y: f64) -> f64 { x.min(y) }
case!(grad s_min / s_min_vjp / s_min_fwd / s_min_is_the_primal: (x: f64 = s(); y: f64 = s()) -> f64);

// Scalar methods on `f32`.
#[differentiate]
fn f32_exp(x: f32) -> f32 { x.exp() }
case!(bits f32_exp / f32_exp_vjp / f32_exp_fwd / f32_exp_is_the_primal: (x: f32 = s32()) -> f32);
#[differentiate]
fn f32_sin(x: f32) -> f32 { x.sin() }
case!(bits f32_sin / f32_sin_vjp / f32_sin_fwd / f32_sin_is_the_primal: (x: f32 = s32()) -> f32);
#[differentiate]
fn f32_cos(x: f32) -> f32 { x.cos() }
case!(bits f32_cos / f32_cos_vjp / f32_cos_fwd / f32_cos_is_the_primal: (x: f32 = s32()) -> f32);
#[differentiate]
fn f32_tan(x: f32) -> f32 { x.tan() }
case!(bits f32_tan / f32_tan_vjp / f32_tan_fwd / f32_tan_is_the_primal: (x: f32 = s32()) -> f32);
#[differentiate]
fn f32_tanh(x: f32) -> f32 { x.tanh() }
case!(bits f32_tanh / f32_tanh_vjp / f32_tanh_fwd / f32_tanh_is_the_primal: (x: f32 = s32()) -> f32);
#[differentiate]
fn f32_abs(x: f32) -> f32 { x.abs() }
case!(bits f32_abs / f32_abs_vjp / f32_abs_fwd / f32_abs_is_the_primal: (x: f32 = s32()) -> f32);
#[differentiate]
fn f32_recip(x: f32) -> f32 { x.recip() }
case!(bits f32_recip / f32_recip_vjp / f32_recip_fwd / f32_recip_is_the_primal: (x: f32 = s32()) -> f32);
#[differentiate]
fn f32_clone(x: f32) -> f32 { x.clone() }
case!(bits f32_clone / f32_clone_vjp / f32_clone_fwd / f32_clone_is_the_primal: (x: f32 = s32()) -> f32);
#[differentiate]
fn f32_ln(x: f32) -> f32 { x.ln() }
case!(bits f32_ln / f32_ln_vjp / f32_ln_fwd / f32_ln_is_the_primal: (x: f32 = s32(), +) -> f32);
#[differentiate]
fn f32_sqrt(x: f32) -> f32 { x.sqrt() }
case!(bits f32_sqrt / f32_sqrt_vjp / f32_sqrt_fwd / f32_sqrt_is_the_primal: (x: f32 = s32(), +) -> f32);
#[differentiate]
fn f32_powi(x: f32) -> f32 { x.powi(3) }
case!(bits f32_powi / f32_powi_vjp / f32_powi_fwd / f32_powi_is_the_primal: (x: f32 = s32()) -> f32);
#[differentiate]
fn f32_powf(x: f32, y: f32) -> f32 { x.powf(y) }
case!(bits f32_powf / f32_powf_vjp / f32_powf_fwd / f32_powf_is_the_primal: (x: f32 = s32(), +; y: f32 = s32()) -> f32);
#[differentiate]
fn f32_max(x: f32, y: f32) -> f32 { x.max(y) }
case!(bits f32_max / f32_max_vjp / f32_max_fwd / f32_max_is_the_primal: (x: f32 = s32(); y: f32 = s32()) -> f32);
#[differentiate]
fn f32_min(x: f32, y: f32) -> f32 { x.min(y) }
case!(bits f32_min / f32_min_vjp / f32_min_fwd / f32_min_is_the_primal: (x: f32 = s32(); y: f32 = s32()) -> f32);

// Matrix methods on `DMatrix<f64>`.
#[differentiate]
fn dm_transpose(m: DMatrix<f64>) -> DMatrix<f64> { m.transpose() }
case!(grad dm_transpose / dm_transpose_vjp / dm_transpose_fwd / dm_transpose_is_the_primal: (m: DMatrix<f64> = dm()) -> DMatrix<f64>);
#[differentiate]
fn dm_component_mul(m: DMatrix<f64>, b: DMatrix<f64>) -> DMatrix<f64> { m.component_mul(&b) }
case!(grad dm_component_mul / dm_component_mul_vjp / dm_component_mul_fwd / dm_component_mul_is_the_primal: (m: DMatrix<f64> = dm(); b: DMatrix<f64> = dm()) -> DMatrix<f64>);
#[differentiate]
fn dm_component_div(m: DMatrix<f64>, b: DMatrix<f64>) -> DMatrix<f64> { m.component_div(&b) }
case!(grad dm_component_div / dm_component_div_vjp / dm_component_div_fwd / dm_component_div_is_the_primal: (m: DMatrix<f64> = dm(); b: DMatrix<f64> = dm(), +) -> DMatrix<f64>);
#[differentiate]
fn dm_sum(m: DMatrix<f64>) -> f64 { m.sum() }
case!(grad dm_sum / dm_sum_vjp / dm_sum_fwd / dm_sum_is_the_primal: (m: DMatrix<f64> = dm()) -> f64);
#[differentiate]
fn dm_mean(m: DMatrix<f64>) -> f64 { m.mean() }
case!(grad dm_mean / dm_mean_vjp / dm_mean_fwd / dm_mean_is_the_primal: (m: DMatrix<f64> = dm()) -> f64);
#[differentiate]
fn dm_norm_squared(m: DMatrix<f64>) -> f64 { m.norm_squared() }
case!(grad dm_norm_squared / dm_norm_squared_vjp / dm_norm_squared_fwd / dm_norm_squared_is_the_primal: (m: DMatrix<f64> = dm()) -> f64);
#[differentiate]
fn dm_norm(m: DMatrix<f64>) -> f64 { m.norm() }
case!(grad dm_norm / dm_norm_vjp / dm_norm_fwd / dm_norm_is_the_primal: (m: DMatrix<f64> = dm()) -> f64);
#[differentiate]
fn dm_dot(m: DMatrix<f64>, b: DMatrix<f64>) -> f64 { m.dot(&b) }
case!(grad dm_dot / dm_dot_vjp / dm_dot_fwd / dm_dot_is_the_primal: (m: DMatrix<f64> = dm(); b: DMatrix<f64> = dm()) -> f64);
#[differentiate]
fn dm_add_scalar(m: DMatrix<f64>, c: f64) -> DMatrix<f64> { m.add_scalar(c) }
case!(grad dm_add_scalar / dm_add_scalar_vjp / dm_add_scalar_fwd / dm_add_scalar_is_the_primal: (m: DMatrix<f64> = dm(); c: f64 = s()) -> DMatrix<f64>);
#[differentiate]
fn dm_scale(m: DMatrix<f64>, c: f64) -> DMatrix<f64> { m.scale(c) }
case!(grad dm_scale / dm_scale_vjp / dm_scale_fwd / dm_scale_is_the_primal: (m: DMatrix<f64> = dm(); c: f64 = s()) -> DMatrix<f64>);
#[differentiate]
fn dm_map(m: DMatrix<f64>, c: f64) -> DMatrix<f64> { m.map(|v| v.sin() * c) }
case!(grad dm_map / dm_map_vjp / dm_map_fwd / dm_map_is_the_primal: (m: DMatrix<f64> = dm(); c: f64 = s()) -> DMatrix<f64>);
#[differentiate]
fn dm_abs(m: DMatrix<f64>) -> DMatrix<f64> { m.abs() }
case!(grad dm_abs / dm_abs_vjp / dm_abs_fwd / dm_abs_is_the_primal: (m: DMatrix<f64> = dm()) -> DMatrix<f64>);
#[differentiate]
fn dm_clone(m: DMatrix<f64>) -> DMatrix<f64> { m.clone() }
case!(grad dm_clone / dm_clone_vjp / dm_clone_fwd / dm_clone_is_the_primal: (m: DMatrix<f64> = dm()) -> DMatrix<f64>);
#[differentiate]
fn dm_clone_owned(m: DMatrix<f64>) -> DMatrix<f64> { m.clone_owned() }
case!(grad dm_clone_owned / dm_clone_owned_vjp / dm_clone_owned_fwd / dm_clone_owned_is_the_primal: (m: DMatrix<f64> = dm()) -> DMatrix<f64>);
#[differentiate]
fn dm_into_owned(m: DMatrix<f64>) -> DMatrix<f64> { m.into_owned() }
case!(grad dm_into_owned / dm_into_owned_vjp / dm_into_owned_fwd / dm_into_owned_is_the_primal: (m: DMatrix<f64> = dm()) -> DMatrix<f64>);

// Matrix methods on `DVector<f64>`.
#[differentiate]
fn dv_transpose(m: DVector<f64>) -> RowDVector<f64> { m.transpose() }
case!(grad dv_transpose / dv_transpose_vjp / dv_transpose_fwd / dv_transpose_is_the_primal: (m: DVector<f64> = dv()) -> RowDVector<f64>);
#[differentiate]
fn dv_component_mul(m: DVector<f64>, b: DVector<f64>) -> DVector<f64> { m.component_mul(&b) }
case!(grad dv_component_mul / dv_component_mul_vjp / dv_component_mul_fwd / dv_component_mul_is_the_primal: (m: DVector<f64> = dv(); b: DVector<f64> = dv()) -> DVector<f64>);
#[differentiate]
fn dv_component_div(m: DVector<f64>, b: DVector<f64>) -> DVector<f64> { m.component_div(&b) }
case!(grad dv_component_div / dv_component_div_vjp / dv_component_div_fwd / dv_component_div_is_the_primal: (m: DVector<f64> = dv(); b: DVector<f64> = dv(), +) -> DVector<f64>);
#[differentiate]
fn dv_sum(m: DVector<f64>) -> f64 { m.sum() }
case!(grad dv_sum / dv_sum_vjp / dv_sum_fwd / dv_sum_is_the_primal: (m: DVector<f64> = dv()) -> f64);
#[differentiate]
fn dv_mean(m: DVector<f64>) -> f64 { m.mean() }
case!(grad dv_mean / dv_mean_vjp / dv_mean_fwd / dv_mean_is_the_primal: (m: DVector<f64> = dv()) -> f64);
#[differentiate]
fn dv_norm_squared(m: DVector<f64>) -> f64 { m.norm_squared() }
case!(grad dv_norm_squared / dv_norm_squared_vjp / dv_norm_squared_fwd / dv_norm_squared_is_the_primal: (m: DVector<f64> = dv()) -> f64);
#[differentiate]
fn dv_norm(m: DVector<f64>) -> f64 { m.norm() }
case!(grad dv_norm / dv_norm_vjp / dv_norm_fwd / dv_norm_is_the_primal: (m: DVector<f64> = dv()) -> f64);
#[differentiate]
fn dv_dot(m: DVector<f64>, b: DVector<f64>) -> f64 { m.dot(&b) }
case!(grad dv_dot / dv_dot_vjp / dv_dot_fwd / dv_dot_is_the_primal: (m: DVector<f64> = dv(); b: DVector<f64> = dv()) -> f64);
#[differentiate]
fn dv_add_scalar(m: DVector<f64>, c: f64) -> DVector<f64> { m.add_scalar(c) }
case!(grad dv_add_scalar / dv_add_scalar_vjp / dv_add_scalar_fwd / dv_add_scalar_is_the_primal: (m: DVector<f64> = dv(); c: f64 = s()) -> DVector<f64>);
#[differentiate]
fn dv_scale(m: DVector<f64>, c: f64) -> DVector<f64> { m.scale(c) }
case!(grad dv_scale / dv_scale_vjp / dv_scale_fwd / dv_scale_is_the_primal: (m: DVector<f64> = dv(); c: f64 = s()) -> DVector<f64>);
#[differentiate]
fn dv_map(m: DVector<f64>, c: f64) -> DVector<f64> { m.map(|v| v.sin() * c) }
case!(grad dv_map / dv_map_vjp / dv_map_fwd / dv_map_is_the_primal: (m: DVector<f64> = dv(); c: f64 = s()) -> DVector<f64>);
#[differentiate]
fn dv_abs(m: DVector<f64>) -> DVector<f64> { m.abs() }
case!(grad dv_abs / dv_abs_vjp / dv_abs_fwd / dv_abs_is_the_primal: (m: DVector<f64> = dv()) -> DVector<f64>);
#[differentiate]
fn dv_clone(m: DVector<f64>) -> DVector<f64> { m.clone() }
case!(grad dv_clone / dv_clone_vjp / dv_clone_fwd / dv_clone_is_the_primal: (m: DVector<f64> = dv()) -> DVector<f64>);
#[differentiate]
fn dv_clone_owned(m: DVector<f64>) -> DVector<f64> { m.clone_owned() }
case!(grad dv_clone_owned / dv_clone_owned_vjp / dv_clone_owned_fwd / dv_clone_owned_is_the_primal: (m: DVector<f64> = dv()) -> DVector<f64>);
#[differentiate]
fn dv_into_owned(m: DVector<f64>) -> DVector<f64> { m.into_owned() }
case!(grad dv_into_owned / dv_into_owned_vjp / dv_into_owned_fwd / dv_into_owned_is_the_primal: (m: DVector<f64> = dv()) -> DVector<f64>);

// Matrix methods on `RowDVector<f64>`.
#[differentiate]
fn rv_transpose(m: RowDVector<f64>) -> DVector<f64> { m.transpose() }
case!(grad rv_transpose / rv_transpose_vjp / rv_transpose_fwd / rv_transpose_is_the_primal: (m: RowDVector<f64> = rv()) -> DVector<f64>);
#[differentiate]
fn rv_component_mul(m: RowDVector<f64>, b: RowDVector<f64>) -> RowDVector<f64> { m.component_mul(&b) }
case!(grad rv_component_mul / rv_component_mul_vjp / rv_component_mul_fwd / rv_component_mul_is_the_primal: (m: RowDVector<f64> = rv(); b: RowDVector<f64> = rv()) -> RowDVector<f64>);
#[differentiate]
fn rv_component_div(m: RowDVector<f64>, b: RowDVector<f64>) -> RowDVector<f64> { m.component_div(&b) }
case!(grad rv_component_div / rv_component_div_vjp / rv_component_div_fwd / rv_component_div_is_the_primal: (m: RowDVector<f64> = rv(); b: RowDVector<f64> = rv(), +) -> RowDVector<f64>);
#[differentiate]
fn rv_sum(m: RowDVector<f64>) -> f64 { m.sum() }
case!(grad rv_sum / rv_sum_vjp / rv_sum_fwd / rv_sum_is_the_primal: (m: RowDVector<f64> = rv()) -> f64);
#[differentiate]
fn rv_mean(m: RowDVector<f64>) -> f64 { m.mean() }
case!(grad rv_mean / rv_mean_vjp / rv_mean_fwd / rv_mean_is_the_primal: (m: RowDVector<f64> = rv()) -> f64);
#[differentiate]
fn rv_norm_squared(m: RowDVector<f64>) -> f64 { m.norm_squared() }
case!(grad rv_norm_squared / rv_norm_squared_vjp / rv_norm_squared_fwd / rv_norm_squared_is_the_primal: (m: RowDVector<f64> = rv()) -> f64);
#[differentiate]
fn rv_norm(m: RowDVector<f64>) -> f64 { m.norm() }
case!(grad rv_norm / rv_norm_vjp / rv_norm_fwd / rv_norm_is_the_primal: (m: RowDVector<f64> = rv()) -> f64);
#[differentiate]
fn rv_dot(m: RowDVector<f64>, b: RowDVector<f64>) -> f64 { m.dot(&b) }
case!(grad rv_dot / rv_dot_vjp / rv_dot_fwd / rv_dot_is_the_primal: (m: RowDVector<f64> = rv(); b: RowDVector<f64> = rv()) -> f64);
#[differentiate]
fn rv_add_scalar(m: RowDVector<f64>, c: f64) -> RowDVector<f64> { m.add_scalar(c) }
case!(grad rv_add_scalar / rv_add_scalar_vjp / rv_add_scalar_fwd / rv_add_scalar_is_the_primal: (m: RowDVector<f64> = rv(); c: f64 = s()) -> RowDVector<f64>);
#[differentiate]
fn rv_scale(m: RowDVector<f64>, c: f64) -> RowDVector<f64> { m.scale(c) }
case!(grad rv_scale / rv_scale_vjp / rv_scale_fwd / rv_scale_is_the_primal: (m: RowDVector<f64> = rv(); c: f64 = s()) -> RowDVector<f64>);
#[differentiate]
fn rv_map(m: RowDVector<f64>, c: f64) -> RowDVector<f64> { m.map(|v| v.sin() * c) }
case!(grad rv_map / rv_map_vjp / rv_map_fwd / rv_map_is_the_primal: (m: RowDVector<f64> = rv(); c: f64 = s()) -> RowDVector<f64>);
#[differentiate]
fn rv_abs(m: RowDVector<f64>) -> RowDVector<f64> { m.abs() }
case!(grad rv_abs / rv_abs_vjp / rv_abs_fwd / rv_abs_is_the_primal: (m: RowDVector<f64> = rv()) -> RowDVector<f64>);
#[differentiate]
fn rv_clone(m: RowDVector<f64>) -> RowDVector<f64> { m.clone() }
case!(grad rv_clone / rv_clone_vjp / rv_clone_fwd / rv_clone_is_the_primal: (m: RowDVector<f64> = rv()) -> RowDVector<f64>);
#[differentiate]
fn rv_clone_owned(m: RowDVector<f64>) -> RowDVector<f64> { m.clone_owned() }
case!(grad rv_clone_owned / rv_clone_owned_vjp / rv_clone_owned_fwd / rv_clone_owned_is_the_primal: (m: RowDVector<f64> = rv()) -> RowDVector<f64>);
#[differentiate]
fn rv_into_owned(m: RowDVector<f64>) -> RowDVector<f64> { m.into_owned() }
case!(grad rv_into_owned / rv_into_owned_vjp / rv_into_owned_fwd / rv_into_owned_is_the_primal: (m: RowDVector<f64> = rv()) -> RowDVector<f64>);

// Matrix methods on `SMatrix<f64, 2, 3>`.
#[differentiate]
fn sm_transpose(m: SMatrix<f64, 2, 3>) -> SMatrix<f64, 3, 2> { m.transpose() }
case!(grad sm_transpose / sm_transpose_vjp / sm_transpose_fwd / sm_transpose_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> SMatrix<f64, 3, 2>);
#[differentiate]
fn sm_component_mul(m: SMatrix<f64, 2, 3>, b: SMatrix<f64, 2, 3>) -> SMatrix<f64, 2, 3> { m.component_mul(&b) }
case!(grad sm_component_mul / sm_component_mul_vjp / sm_component_mul_fwd / sm_component_mul_is_the_primal: (m: SMatrix<f64, 2, 3> = sm(); b: SMatrix<f64, 2, 3> = sm()) -> SMatrix<f64, 2, 3>);
#[differentiate]
fn sm_component_div(m: SMatrix<f64, 2, 3>, b: SMatrix<f64, 2, 3>) -> SMatrix<f64, 2, 3> { m.component_div(&b) }
case!(grad sm_component_div / sm_component_div_vjp / sm_component_div_fwd / sm_component_div_is_the_primal: (m: SMatrix<f64, 2, 3> = sm(); b: SMatrix<f64, 2, 3> = sm(), +) -> SMatrix<f64, 2, 3>);
#[differentiate]
fn sm_sum(m: SMatrix<f64, 2, 3>) -> f64 { m.sum() }
case!(grad sm_sum / sm_sum_vjp / sm_sum_fwd / sm_sum_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> f64);
#[differentiate]
fn sm_mean(m: SMatrix<f64, 2, 3>) -> f64 { m.mean() }
case!(grad sm_mean / sm_mean_vjp / sm_mean_fwd / sm_mean_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> f64);
#[differentiate]
fn sm_norm_squared(m: SMatrix<f64, 2, 3>) -> f64 { m.norm_squared() }
case!(grad sm_norm_squared / sm_norm_squared_vjp / sm_norm_squared_fwd / sm_norm_squared_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> f64);
#[differentiate]
fn sm_norm(m: SMatrix<f64, 2, 3>) -> f64 { m.norm() }
case!(grad sm_norm / sm_norm_vjp / sm_norm_fwd / sm_norm_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> f64);
#[differentiate]
fn sm_dot(m: SMatrix<f64, 2, 3>, b: SMatrix<f64, 2, 3>) -> f64 { m.dot(&b) }
case!(grad sm_dot / sm_dot_vjp / sm_dot_fwd / sm_dot_is_the_primal: (m: SMatrix<f64, 2, 3> = sm(); b: SMatrix<f64, 2, 3> = sm()) -> f64);
#[differentiate]
fn sm_add_scalar(m: SMatrix<f64, 2, 3>, c: f64) -> SMatrix<f64, 2, 3> { m.add_scalar(c) }
case!(grad sm_add_scalar / sm_add_scalar_vjp / sm_add_scalar_fwd / sm_add_scalar_is_the_primal: (m: SMatrix<f64, 2, 3> = sm(); c: f64 = s()) -> SMatrix<f64, 2, 3>);
#[differentiate]
fn sm_scale(m: SMatrix<f64, 2, 3>, c: f64) -> SMatrix<f64, 2, 3> { m.scale(c) }
case!(grad sm_scale / sm_scale_vjp / sm_scale_fwd / sm_scale_is_the_primal: (m: SMatrix<f64, 2, 3> = sm(); c: f64 = s()) -> SMatrix<f64, 2, 3>);
#[differentiate]
fn sm_map(m: SMatrix<f64, 2, 3>, c: f64) -> SMatrix<f64, 2, 3> { m.map(|v| v.sin() * c) }
case!(grad sm_map / sm_map_vjp / sm_map_fwd / sm_map_is_the_primal: (m: SMatrix<f64, 2, 3> = sm(); c: f64 = s()) -> SMatrix<f64, 2, 3>);
#[differentiate]
fn sm_abs(m: SMatrix<f64, 2, 3>) -> SMatrix<f64, 2, 3> { m.abs() }
case!(grad sm_abs / sm_abs_vjp / sm_abs_fwd / sm_abs_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> SMatrix<f64, 2, 3>);
#[differentiate]
fn sm_clone(m: SMatrix<f64, 2, 3>) -> SMatrix<f64, 2, 3> { m.clone() }
case!(grad sm_clone / sm_clone_vjp / sm_clone_fwd / sm_clone_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> SMatrix<f64, 2, 3>);
#[differentiate]
fn sm_clone_owned(m: SMatrix<f64, 2, 3>) -> SMatrix<f64, 2, 3> { m.clone_owned() }
case!(grad sm_clone_owned / sm_clone_owned_vjp / sm_clone_owned_fwd / sm_clone_owned_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> SMatrix<f64, 2, 3>);
#[differentiate]
fn sm_into_owned(m: SMatrix<f64, 2, 3>) -> SMatrix<f64, 2, 3> { m.into_owned() }
case!(grad sm_into_owned / sm_into_owned_vjp / sm_into_owned_fwd / sm_into_owned_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> SMatrix<f64, 2, 3>);

// Matrix methods on `SVector<f64, 3>`.
#[differentiate]
fn sv_transpose(m: SVector<f64, 3>) -> nalgebra::RowSVector<f64, 3> { m.transpose() }
case!(grad sv_transpose / sv_transpose_vjp / sv_transpose_fwd / sv_transpose_is_the_primal: (m: SVector<f64, 3> = sv()) -> nalgebra::RowSVector<f64, 3>);
#[differentiate]
fn sv_component_mul(m: SVector<f64, 3>, b: SVector<f64, 3>) -> SVector<f64, 3> { m.component_mul(&b) }
case!(grad sv_component_mul / sv_component_mul_vjp / sv_component_mul_fwd / sv_component_mul_is_the_primal: (m: SVector<f64, 3> = sv(); b: SVector<f64, 3> = sv()) -> SVector<f64, 3>);
#[differentiate]
fn sv_component_div(m: SVector<f64, 3>, b: SVector<f64, 3>) -> SVector<f64, 3> { m.component_div(&b) }
case!(grad sv_component_div / sv_component_div_vjp / sv_component_div_fwd / sv_component_div_is_the_primal: (m: SVector<f64, 3> = sv(); b: SVector<f64, 3> = sv(), +) -> SVector<f64, 3>);
#[differentiate]
fn sv_sum(m: SVector<f64, 3>) -> f64 { m.sum() }
case!(grad sv_sum / sv_sum_vjp / sv_sum_fwd / sv_sum_is_the_primal: (m: SVector<f64, 3> = sv()) -> f64);
#[differentiate]
fn sv_mean(m: SVector<f64, 3>) -> f64 { m.mean() }
case!(grad sv_mean / sv_mean_vjp / sv_mean_fwd / sv_mean_is_the_primal: (m: SVector<f64, 3> = sv()) -> f64);
#[differentiate]
fn sv_norm_squared(m: SVector<f64, 3>) -> f64 { m.norm_squared() }
case!(grad sv_norm_squared / sv_norm_squared_vjp / sv_norm_squared_fwd / sv_norm_squared_is_the_primal: (m: SVector<f64, 3> = sv()) -> f64);
#[differentiate]
fn sv_norm(m: SVector<f64, 3>) -> f64 { m.norm() }
case!(grad sv_norm / sv_norm_vjp / sv_norm_fwd / sv_norm_is_the_primal: (m: SVector<f64, 3> = sv()) -> f64);
#[differentiate]
fn sv_dot(m: SVector<f64, 3>, b: SVector<f64, 3>) -> f64 { m.dot(&b) }
case!(grad sv_dot / sv_dot_vjp / sv_dot_fwd / sv_dot_is_the_primal: (m: SVector<f64, 3> = sv(); b: SVector<f64, 3> = sv()) -> f64);
#[differentiate]
fn sv_add_scalar(m: SVector<f64, 3>, c: f64) -> SVector<f64, 3> { m.add_scalar(c) }
case!(grad sv_add_scalar / sv_add_scalar_vjp / sv_add_scalar_fwd / sv_add_scalar_is_the_primal: (m: SVector<f64, 3> = sv(); c: f64 = s()) -> SVector<f64, 3>);
#[differentiate]
fn sv_scale(m: SVector<f64, 3>, c: f64) -> SVector<f64, 3> { m.scale(c) }
case!(grad sv_scale / sv_scale_vjp / sv_scale_fwd / sv_scale_is_the_primal: (m: SVector<f64, 3> = sv(); c: f64 = s()) -> SVector<f64, 3>);
#[differentiate]
fn sv_map(m: SVector<f64, 3>, c: f64) -> SVector<f64, 3> { m.map(|v| v.sin() * c) }
case!(grad sv_map / sv_map_vjp / sv_map_fwd / sv_map_is_the_primal: (m: SVector<f64, 3> = sv(); c: f64 = s()) -> SVector<f64, 3>);
#[differentiate]
fn sv_abs(m: SVector<f64, 3>) -> SVector<f64, 3> { m.abs() }
case!(grad sv_abs / sv_abs_vjp / sv_abs_fwd / sv_abs_is_the_primal: (m: SVector<f64, 3> = sv()) -> SVector<f64, 3>);
#[differentiate]
fn sv_clone(m: SVector<f64, 3>) -> SVector<f64, 3> { m.clone() }
case!(grad sv_clone / sv_clone_vjp / sv_clone_fwd / sv_clone_is_the_primal: (m: SVector<f64, 3> = sv()) -> SVector<f64, 3>);
#[differentiate]
fn sv_clone_owned(m: SVector<f64, 3>) -> SVector<f64, 3> { m.clone_owned() }
case!(grad sv_clone_owned / sv_clone_owned_vjp / sv_clone_owned_fwd / sv_clone_owned_is_the_primal: (m: SVector<f64, 3> = sv()) -> SVector<f64, 3>);
#[differentiate]
fn sv_into_owned(m: SVector<f64, 3>) -> SVector<f64, 3> { m.into_owned() }
case!(grad sv_into_owned / sv_into_owned_vjp / sv_into_owned_fwd / sv_into_owned_is_the_primal: (m: SVector<f64, 3> = sv()) -> SVector<f64, 3>);

// Matrix methods on `DMatrix<f32>`.
#[differentiate]
fn dm32_transpose(m: DMatrix<f32>) -> DMatrix<f32> { m.transpose() }
case!(bits dm32_transpose / dm32_transpose_vjp / dm32_transpose_fwd / dm32_transpose_is_the_primal: (m: DMatrix<f32> = dm32()) -> DMatrix<f32>);
#[differentiate]
fn dm32_component_mul(m: DMatrix<f32>, b: DMatrix<f32>) -> DMatrix<f32> { m.component_mul(&b) }
case!(bits dm32_component_mul / dm32_component_mul_vjp / dm32_component_mul_fwd / dm32_component_mul_is_the_primal: (m: DMatrix<f32> = dm32(); b: DMatrix<f32> = dm32()) -> DMatrix<f32>);
#[differentiate]
fn dm32_component_div(m: DMatrix<f32>, b: DMatrix<f32>) -> DMatrix<f32> { m.component_div(&b) }
case!(bits dm32_component_div / dm32_component_div_vjp / dm32_component_div_fwd / dm32_component_div_is_the_primal: (m: DMatrix<f32> = dm32(); b: DMatrix<f32> = dm32(), +) -> DMatrix<f32>);
#[differentiate]
fn dm32_sum(m: DMatrix<f32>) -> f32 { m.sum() }
case!(bits dm32_sum / dm32_sum_vjp / dm32_sum_fwd / dm32_sum_is_the_primal: (m: DMatrix<f32> = dm32()) -> f32);
#[differentiate]
fn dm32_mean(m: DMatrix<f32>) -> f32 { m.mean() }
case!(bits dm32_mean / dm32_mean_vjp / dm32_mean_fwd / dm32_mean_is_the_primal: (m: DMatrix<f32> = dm32()) -> f32);
#[differentiate]
fn dm32_norm_squared(m: DMatrix<f32>) -> f32 { m.norm_squared() }
case!(bits dm32_norm_squared / dm32_norm_squared_vjp / dm32_norm_squared_fwd / dm32_norm_squared_is_the_primal: (m: DMatrix<f32> = dm32()) -> f32);
#[differentiate]
fn dm32_norm(m: DMatrix<f32>) -> f32 { m.norm() }
case!(bits dm32_norm / dm32_norm_vjp / dm32_norm_fwd / dm32_norm_is_the_primal: (m: DMatrix<f32> = dm32()) -> f32);
#[differentiate]
fn dm32_dot(m: DMatrix<f32>, b: DMatrix<f32>) -> f32 { m.dot(&b) }
case!(bits dm32_dot / dm32_dot_vjp / dm32_dot_fwd / dm32_dot_is_the_primal: (m: DMatrix<f32> = dm32(); b: DMatrix<f32> = dm32()) -> f32);
#[differentiate]
fn dm32_add_scalar(m: DMatrix<f32>, c: f32) -> DMatrix<f32> { m.add_scalar(c) }
case!(bits dm32_add_scalar / dm32_add_scalar_vjp / dm32_add_scalar_fwd / dm32_add_scalar_is_the_primal: (m: DMatrix<f32> = dm32(); c: f32 = s32()) -> DMatrix<f32>);
#[differentiate]
fn dm32_scale(m: DMatrix<f32>, c: f32) -> DMatrix<f32> { m.scale(c) }
case!(bits dm32_scale / dm32_scale_vjp / dm32_scale_fwd / dm32_scale_is_the_primal: (m: DMatrix<f32> = dm32(); c: f32 = s32()) -> DMatrix<f32>);
#[differentiate]
fn dm32_map(m: DMatrix<f32>, c: f32) -> DMatrix<f32> { m.map(|v| v.sin() * c) }
case!(bits dm32_map / dm32_map_vjp / dm32_map_fwd / dm32_map_is_the_primal: (m: DMatrix<f32> = dm32(); c: f32 = s32()) -> DMatrix<f32>);
#[differentiate]
fn dm32_abs(m: DMatrix<f32>) -> DMatrix<f32> { m.abs() }
case!(bits dm32_abs / dm32_abs_vjp / dm32_abs_fwd / dm32_abs_is_the_primal: (m: DMatrix<f32> = dm32()) -> DMatrix<f32>);
#[differentiate]
fn dm32_clone(m: DMatrix<f32>) -> DMatrix<f32> { m.clone() }
case!(bits dm32_clone / dm32_clone_vjp / dm32_clone_fwd / dm32_clone_is_the_primal: (m: DMatrix<f32> = dm32()) -> DMatrix<f32>);
#[differentiate]
fn dm32_clone_owned(m: DMatrix<f32>) -> DMatrix<f32> { m.clone_owned() }
case!(bits dm32_clone_owned / dm32_clone_owned_vjp / dm32_clone_owned_fwd / dm32_clone_owned_is_the_primal: (m: DMatrix<f32> = dm32()) -> DMatrix<f32>);
#[differentiate]
fn dm32_into_owned(m: DMatrix<f32>) -> DMatrix<f32> { m.into_owned() }
case!(bits dm32_into_owned / dm32_into_owned_vjp / dm32_into_owned_fwd / dm32_into_owned_is_the_primal: (m: DMatrix<f32> = dm32()) -> DMatrix<f32>);

// `exp` on square matrices: nalgebra's matrix exponential (a matrix of one row is its
// elementwise case).
#[differentiate]
fn sq_exp(m: DMatrix<f64>) -> DMatrix<f64> { m.exp() }
case!(grad sq_exp / sq_exp_vjp / sq_exp_fwd / sq_exp_is_the_primal: (m: DMatrix<f64> = sq()) -> DMatrix<f64>);
#[differentiate]
fn ss_exp(m: SMatrix<f64, 3, 3>) -> SMatrix<f64, 3, 3> { m.exp() }
case!(grad ss_exp / ss_exp_vjp / ss_exp_fwd / ss_exp_is_the_primal: (m: SMatrix<f64, 3, 3> = ss()) -> SMatrix<f64, 3, 3>);
#[differentiate]
fn one_row_exp(m: DMatrix<f64>) -> DMatrix<f64> { m.exp() }
case!(grad one_row_exp / one_row_exp_vjp / one_row_exp_fwd / one_row_exp_is_the_primal: (m: DMatrix<f64> = one_row()) -> DMatrix<f64>);
#[differentiate]
fn sq_exp_sum(m: DMatrix<f64>) -> f64 { m.exp().sum() }
case!(grad sq_exp_sum / sq_exp_sum_vjp / sq_exp_sum_fwd / sq_exp_sum_is_the_primal: (m: DMatrix<f64> = sq()) -> f64);
#[differentiate]
fn sq32_exp(m: DMatrix<f32>) -> DMatrix<f32> { m.exp() }
case!(bits sq32_exp / sq32_exp_vjp / sq32_exp_fwd / sq32_exp_is_the_primal: (m: DMatrix<f32> = sq32()) -> DMatrix<f32>);

// Reductions: the largest and smallest element (`max`, `min` without an argument), the
// sums and means along rows or columns, and the trace of square matrices.
#[differentiate]
fn dm_max(m: DMatrix<f64>) -> f64 { m.max() }
case!(grad dm_max / dm_max_vjp / dm_max_fwd / dm_max_is_the_primal: (m: DMatrix<f64> = dm()) -> f64);
#[differentiate]
fn dm_min(m: DMatrix<f64>) -> f64 { m.min() }
case!(grad dm_min / dm_min_vjp / dm_min_fwd / dm_min_is_the_primal: (m: DMatrix<f64> = dm()) -> f64);
#[differentiate]
fn dm_row_sum(m: DMatrix<f64>) -> RowDVector<f64> { m.row_sum() }
case!(grad dm_row_sum / dm_row_sum_vjp / dm_row_sum_fwd / dm_row_sum_is_the_primal: (m: DMatrix<f64> = dm()) -> RowDVector<f64>);
#[differentiate]
fn dm_column_sum(m: DMatrix<f64>) -> DVector<f64> { m.column_sum() }
case!(grad dm_column_sum / dm_column_sum_vjp / dm_column_sum_fwd / dm_column_sum_is_the_primal: (m: DMatrix<f64> = dm()) -> DVector<f64>);
#[differentiate]
fn dm_row_mean(m: DMatrix<f64>) -> RowDVector<f64> { m.row_mean() }
case!(grad dm_row_mean / dm_row_mean_vjp / dm_row_mean_fwd / dm_row_mean_is_the_primal: (m: DMatrix<f64> = dm()) -> RowDVector<f64>);
#[differentiate]
fn dm_column_mean(m: DMatrix<f64>) -> DVector<f64> { m.column_mean() }
case!(grad dm_column_mean / dm_column_mean_vjp / dm_column_mean_fwd / dm_column_mean_is_the_primal: (m: DMatrix<f64> = dm()) -> DVector<f64>);
#[differentiate]
fn dv_max(m: DVector<f64>) -> f64 { m.max() }
case!(grad dv_max / dv_max_vjp / dv_max_fwd / dv_max_is_the_primal: (m: DVector<f64> = dv()) -> f64);
#[differentiate]
fn dv_min(m: DVector<f64>) -> f64 { m.min() }
case!(grad dv_min / dv_min_vjp / dv_min_fwd / dv_min_is_the_primal: (m: DVector<f64> = dv()) -> f64);
#[differentiate]
fn dv_row_sum(m: DVector<f64>) -> SMatrix<f64, 1, 1> { m.row_sum() }
case!(grad dv_row_sum / dv_row_sum_vjp / dv_row_sum_fwd / dv_row_sum_is_the_primal: (m: DVector<f64> = dv()) -> SMatrix<f64, 1, 1>);
#[differentiate]
fn dv_column_sum(m: DVector<f64>) -> DVector<f64> { m.column_sum() }
case!(grad dv_column_sum / dv_column_sum_vjp / dv_column_sum_fwd / dv_column_sum_is_the_primal: (m: DVector<f64> = dv()) -> DVector<f64>);
#[differentiate]
fn dv_row_mean(m: DVector<f64>) -> SMatrix<f64, 1, 1> { m.row_mean() }
case!(grad dv_row_mean / dv_row_mean_vjp / dv_row_mean_fwd / dv_row_mean_is_the_primal: (m: DVector<f64> = dv()) -> SMatrix<f64, 1, 1>);
#[differentiate]
fn dv_column_mean(m: DVector<f64>) -> DVector<f64> { m.column_mean() }
case!(grad dv_column_mean / dv_column_mean_vjp / dv_column_mean_fwd / dv_column_mean_is_the_primal: (m: DVector<f64> = dv()) -> DVector<f64>);
#[differentiate]
fn rv_max(m: RowDVector<f64>) -> f64 { m.max() }
case!(grad rv_max / rv_max_vjp / rv_max_fwd / rv_max_is_the_primal: (m: RowDVector<f64> = rv()) -> f64);
#[differentiate]
fn rv_min(m: RowDVector<f64>) -> f64 { m.min() }
case!(grad rv_min / rv_min_vjp / rv_min_fwd / rv_min_is_the_primal: (m: RowDVector<f64> = rv()) -> f64);
#[differentiate]
fn rv_row_sum(m: RowDVector<f64>) -> RowDVector<f64> { m.row_sum() }
case!(grad rv_row_sum / rv_row_sum_vjp / rv_row_sum_fwd / rv_row_sum_is_the_primal: (m: RowDVector<f64> = rv()) -> RowDVector<f64>);
#[differentiate]
fn rv_column_sum(m: RowDVector<f64>) -> SMatrix<f64, 1, 1> { m.column_sum() }
case!(grad rv_column_sum / rv_column_sum_vjp / rv_column_sum_fwd / rv_column_sum_is_the_primal: (m: RowDVector<f64> = rv()) -> SMatrix<f64, 1, 1>);
#[differentiate]
fn rv_row_mean(m: RowDVector<f64>) -> RowDVector<f64> { m.row_mean() }
case!(grad rv_row_mean / rv_row_mean_vjp / rv_row_mean_fwd / rv_row_mean_is_the_primal: (m: RowDVector<f64> = rv()) -> RowDVector<f64>);
#[differentiate]
fn rv_column_mean(m: RowDVector<f64>) -> SMatrix<f64, 1, 1> { m.column_mean() }
case!(grad rv_column_mean / rv_column_mean_vjp / rv_column_mean_fwd / rv_column_mean_is_the_primal: (m: RowDVector<f64> = rv()) -> SMatrix<f64, 1, 1>);
#[differentiate]
fn sm_max(m: SMatrix<f64, 2, 3>) -> f64 { m.max() }
case!(grad sm_max / sm_max_vjp / sm_max_fwd / sm_max_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> f64);
#[differentiate]
fn sm_min(m: SMatrix<f64, 2, 3>) -> f64 { m.min() }
case!(grad sm_min / sm_min_vjp / sm_min_fwd / sm_min_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> f64);
#[differentiate]
fn sm_row_sum(m: SMatrix<f64, 2, 3>) -> SMatrix<f64, 1, 3> { m.row_sum() }
case!(grad sm_row_sum / sm_row_sum_vjp / sm_row_sum_fwd / sm_row_sum_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> SMatrix<f64, 1, 3>);
#[differentiate]
fn sm_column_sum(m: SMatrix<f64, 2, 3>) -> SMatrix<f64, 2, 1> { m.column_sum() }
case!(grad sm_column_sum / sm_column_sum_vjp / sm_column_sum_fwd / sm_column_sum_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> SMatrix<f64, 2, 1>);
#[differentiate]
fn sm_row_mean(m: SMatrix<f64, 2, 3>) -> SMatrix<f64, 1, 3> { m.row_mean() }
case!(grad sm_row_mean / sm_row_mean_vjp / sm_row_mean_fwd / sm_row_mean_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> SMatrix<f64, 1, 3>);
#[differentiate]
fn sm_column_mean(m: SMatrix<f64, 2, 3>) -> SMatrix<f64, 2, 1> { m.column_mean() }
case!(grad sm_column_mean / sm_column_mean_vjp / sm_column_mean_fwd / sm_column_mean_is_the_primal: (m: SMatrix<f64, 2, 3> = sm()) -> SMatrix<f64, 2, 1>);
#[differentiate]
fn sv_max(m: SVector<f64, 3>) -> f64 { m.max() }
case!(grad sv_max / sv_max_vjp / sv_max_fwd / sv_max_is_the_primal: (m: SVector<f64, 3> = sv()) -> f64);
#[differentiate]
fn sv_min(m: SVector<f64, 3>) -> f64 { m.min() }
case!(grad sv_min / sv_min_vjp / sv_min_fwd / sv_min_is_the_primal: (m: SVector<f64, 3> = sv()) -> f64);
#[differentiate]
fn sv_row_sum(m: SVector<f64, 3>) -> SMatrix<f64, 1, 1> { m.row_sum() }
case!(grad sv_row_sum / sv_row_sum_vjp / sv_row_sum_fwd / sv_row_sum_is_the_primal: (m: SVector<f64, 3> = sv()) -> SMatrix<f64, 1, 1>);
#[differentiate]
fn sv_column_sum(m: SVector<f64, 3>) -> SVector<f64, 3> { m.column_sum() }
case!(grad sv_column_sum / sv_column_sum_vjp / sv_column_sum_fwd / sv_column_sum_is_the_primal: (m: SVector<f64, 3> = sv()) -> SVector<f64, 3>);
#[differentiate]
fn sv_row_mean(m: SVector<f64, 3>) -> SMatrix<f64, 1, 1> { m.row_mean() }
case!(grad sv_row_mean / sv_row_mean_vjp / sv_row_mean_fwd / sv_row_mean_is_the_primal: (m: SVector<f64, 3> = sv()) -> SMatrix<f64, 1, 1>);
#[differentiate]
fn sv_column_mean(m: SVector<f64, 3>) -> SVector<f64, 3> { m.column_mean() }
case!(grad sv_column_mean / sv_column_mean_vjp / sv_column_mean_fwd / sv_column_mean_is_the_primal: (m: SVector<f64, 3> = sv()) -> SVector<f64, 3>);
#[differentiate]
fn dm32_max(m: DMatrix<f32>) -> f32 { m.max() }
case!(bits dm32_max / dm32_max_vjp / dm32_max_fwd / dm32_max_is_the_primal: (m: DMatrix<f32> = dm32()) -> f32);
#[differentiate]
fn dm32_min(m: DMatrix<f32>) -> f32 { m.min() }
case!(bits dm32_min / dm32_min_vjp / dm32_min_fwd / dm32_min_is_the_primal: (m: DMatrix<f32> = dm32()) -> f32);
#[differentiate]
fn dm32_row_sum(m: DMatrix<f32>) -> RowDVector<f32> { m.row_sum() }
case!(bits dm32_row_sum / dm32_row_sum_vjp / dm32_row_sum_fwd / dm32_row_sum_is_the_primal: (m: DMatrix<f32> = dm32()) -> RowDVector<f32>);
#[differentiate]
fn dm32_column_sum(m: DMatrix<f32>) -> DVector<f32> { m.column_sum() }
case!(bits dm32_column_sum / dm32_column_sum_vjp / dm32_column_sum_fwd / dm32_column_sum_is_the_primal: (m: DMatrix<f32> = dm32()) -> DVector<f32>);
#[differentiate]
fn dm32_row_mean(m: DMatrix<f32>) -> RowDVector<f32> { m.row_mean() }
case!(bits dm32_row_mean / dm32_row_mean_vjp / dm32_row_mean_fwd / dm32_row_mean_is_the_primal: (m: DMatrix<f32> = dm32()) -> RowDVector<f32>);
#[differentiate]
fn dm32_column_mean(m: DMatrix<f32>) -> DVector<f32> { m.column_mean() }
case!(bits dm32_column_mean / dm32_column_mean_vjp / dm32_column_mean_fwd / dm32_column_mean_is_the_primal: (m: DMatrix<f32> = dm32()) -> DVector<f32>);
#[differentiate]
fn sq_trace(m: DMatrix<f64>) -> f64 { m.trace() }
case!(grad sq_trace / sq_trace_vjp / sq_trace_fwd / sq_trace_is_the_primal: (m: DMatrix<f64> = sq()) -> f64);
#[differentiate]
fn ss_trace(m: SMatrix<f64, 3, 3>) -> f64 { m.trace() }
case!(grad ss_trace / ss_trace_vjp / ss_trace_fwd / ss_trace_is_the_primal: (m: SMatrix<f64, 3, 3> = ss()) -> f64);
#[differentiate]
fn sq32_trace(m: DMatrix<f32>) -> f32 { m.trace() }
case!(bits sq32_trace / sq32_trace_vjp / sq32_trace_fwd / sq32_trace_is_the_primal: (m: DMatrix<f32> = sq32()) -> f32);
#[differentiate]
fn dm_max_then_scalar_max(m: DMatrix<f64>, c: f64) -> f64 { m.max().max(c) - m.min().min(c * c) }
case!(grad dm_max_then_scalar_max / dm_max_then_scalar_max_vjp / dm_max_then_scalar_max_fwd / dm_max_then_scalar_max_is_the_primal: (m: DMatrix<f64> = dm(); c: f64 = s()) -> f64);

// Linear algebra: `determinant`, `try_inverse`, `lu().solve`, `cholesky()` and `kronecker`.
// Each function makes its own matrix well conditioned whatever the draw: `m + 3·I` is
// diagonally dominant (elements are at most 0.9), `m·mᵀ + I` positive definite.
#[differentiate]
fn sq_determinant(m: DMatrix<f64>) -> f64 { m.determinant() }
case!(grad sq_determinant / sq_determinant_vjp / sq_determinant_fwd / sq_determinant_is_the_primal: (m: DMatrix<f64> = sq()) -> f64);
#[differentiate]
fn sq5_determinant(m: DMatrix<f64>) -> f64 { m.determinant() }
case!(grad sq5_determinant / sq5_determinant_vjp / sq5_determinant_fwd / sq5_determinant_is_the_primal: (m: DMatrix<f64> = sq5()) -> f64);
#[differentiate]
fn ss_determinant(m: SMatrix<f64, 3, 3>) -> f64 { m.determinant() }
case!(grad ss_determinant / ss_determinant_vjp / ss_determinant_fwd / ss_determinant_is_the_primal: (m: SMatrix<f64, 3, 3> = ss()) -> f64);
#[differentiate]
fn sq32_determinant(m: DMatrix<f32>) -> f32 { m.determinant() }
case!(bits sq32_determinant / sq32_determinant_vjp / sq32_determinant_fwd / sq32_determinant_is_the_primal: (m: DMatrix<f32> = sq32()) -> f32);
#[differentiate]
fn sq_inverse(m: DMatrix<f64>) -> DMatrix<f64> { (m + DMatrix::identity(3, 3) * 3.0).try_inverse().unwrap() }
case!(grad sq_inverse / sq_inverse_vjp / sq_inverse_fwd / sq_inverse_is_the_primal: (m: DMatrix<f64> = sq()) -> DMatrix<f64>);
#[differentiate]
fn sq5_inverse(m: DMatrix<f64>) -> DMatrix<f64> { (m + DMatrix::identity(5, 5) * 5.0).try_inverse().expect("invertible") }
case!(grad sq5_inverse / sq5_inverse_vjp / sq5_inverse_fwd / sq5_inverse_is_the_primal: (m: DMatrix<f64> = sq5()) -> DMatrix<f64>);
#[differentiate]
fn ss_inverse(m: SMatrix<f64, 3, 3>) -> SMatrix<f64, 3, 3> { (m + SMatrix::<f64, 3, 3>::identity() * 3.0).try_inverse().unwrap() }
case!(grad ss_inverse / ss_inverse_vjp / ss_inverse_fwd / ss_inverse_is_the_primal: (m: SMatrix<f64, 3, 3> = ss()) -> SMatrix<f64, 3, 3>);
#[differentiate]
fn sq32_inverse(m: DMatrix<f32>) -> DMatrix<f32> { (m + DMatrix::identity(3, 3) * 3.0).try_inverse().unwrap() }
case!(bits sq32_inverse / sq32_inverse_vjp / sq32_inverse_fwd / sq32_inverse_is_the_primal: (m: DMatrix<f32> = sq32()) -> DMatrix<f32>);
#[differentiate]
fn sq_lu_solve(a: DMatrix<f64>, b: DVector<f64>) -> DVector<f64> { (a + DMatrix::identity(3, 3) * 3.0).lu().solve(&b).unwrap() }
case!(grad sq_lu_solve / sq_lu_solve_vjp / sq_lu_solve_fwd / sq_lu_solve_is_the_primal: (a: DMatrix<f64> = sq(); b: DVector<f64> = dv3()) -> DVector<f64>);
#[differentiate]
fn sq_lu_solve_matrix(a: DMatrix<f64>, b: DMatrix<f64>) -> DMatrix<f64> { (a + DMatrix::identity(3, 3) * 3.0).lu().solve(&b).expect("invertible") }
case!(grad sq_lu_solve_matrix / sq_lu_solve_matrix_vjp / sq_lu_solve_matrix_fwd / sq_lu_solve_matrix_is_the_primal: (a: DMatrix<f64> = sq(); b: DMatrix<f64> = dm()) -> DMatrix<f64>);
#[differentiate]
fn ss_lu_solve(a: SMatrix<f64, 3, 3>, b: SVector<f64, 3>) -> SVector<f64, 3> { (a + SMatrix::<f64, 3, 3>::identity() * 3.0).lu().solve(&b).unwrap() }
case!(grad ss_lu_solve / ss_lu_solve_vjp / ss_lu_solve_fwd / ss_lu_solve_is_the_primal: (a: SMatrix<f64, 3, 3> = ss(); b: SVector<f64, 3> = sv()) -> SVector<f64, 3>);
#[differentiate]
fn sq32_lu_solve(a: DMatrix<f32>, b: DVector<f32>) -> DVector<f32> { (a + DMatrix::identity(3, 3) * 3.0).lu().solve(&b).unwrap() }
case!(bits sq32_lu_solve / sq32_lu_solve_vjp / sq32_lu_solve_fwd / sq32_lu_solve_is_the_primal: (a: DMatrix<f32> = sq32(); b: DVector<f32> = dv32()) -> DVector<f32>);
#[differentiate]
fn sq_cholesky_l(m: DMatrix<f64>) -> DMatrix<f64> { (&m * m.transpose() + DMatrix::identity(3, 3)).cholesky().unwrap().l() }
case!(grad sq_cholesky_l / sq_cholesky_l_vjp / sq_cholesky_l_fwd / sq_cholesky_l_is_the_primal: (m: DMatrix<f64> = sq()) -> DMatrix<f64>);
#[differentiate]
fn ss_cholesky_l(m: SMatrix<f64, 3, 3>) -> SMatrix<f64, 3, 3> { (m * m.transpose() + SMatrix::<f64, 3, 3>::identity()).cholesky().expect("positive definite").l() }
case!(grad ss_cholesky_l / ss_cholesky_l_vjp / ss_cholesky_l_fwd / ss_cholesky_l_is_the_primal: (m: SMatrix<f64, 3, 3> = ss()) -> SMatrix<f64, 3, 3>);
#[differentiate]
fn sq32_cholesky_l(m: DMatrix<f32>) -> DMatrix<f32> { (&m * m.transpose() + DMatrix::identity(3, 3)).cholesky().unwrap().l() }
case!(bits sq32_cholesky_l / sq32_cholesky_l_vjp / sq32_cholesky_l_fwd / sq32_cholesky_l_is_the_primal: (m: DMatrix<f32> = sq32()) -> DMatrix<f32>);
#[differentiate]
fn sq_cholesky_solve(m: DMatrix<f64>, b: DVector<f64>) -> DVector<f64> { (&m * m.transpose() + DMatrix::identity(3, 3)).cholesky().unwrap().solve(&b) }
case!(grad sq_cholesky_solve / sq_cholesky_solve_vjp / sq_cholesky_solve_fwd / sq_cholesky_solve_is_the_primal: (m: DMatrix<f64> = sq(); b: DVector<f64> = dv3()) -> DVector<f64>);
#[differentiate]
fn ss_cholesky_solve(m: SMatrix<f64, 3, 3>, b: SMatrix<f64, 3, 2>) -> SMatrix<f64, 3, 2> { (m * m.transpose() + SMatrix::<f64, 3, 3>::identity()).cholesky().expect("positive definite").solve(&b) }
case!(grad ss_cholesky_solve / ss_cholesky_solve_vjp / ss_cholesky_solve_fwd / ss_cholesky_solve_is_the_primal: (m: SMatrix<f64, 3, 3> = ss(); b: SMatrix<f64, 3, 2> = sm32()) -> SMatrix<f64, 3, 2>);
#[differentiate]
fn sq32_cholesky_solve(m: DMatrix<f32>, b: DVector<f32>) -> DVector<f32> { (&m * m.transpose() + DMatrix::identity(3, 3)).cholesky().unwrap().solve(&b) }
case!(bits sq32_cholesky_solve / sq32_cholesky_solve_vjp / sq32_cholesky_solve_fwd / sq32_cholesky_solve_is_the_primal: (m: DMatrix<f32> = sq32(); b: DVector<f32> = dv32()) -> DVector<f32>);
// A factorization named once and used any number of times: `c.l()` and `c.solve(&b)`.
#[differentiate]
fn sq_named_cholesky(m: DMatrix<f64>, b: DVector<f64>) -> f64 {
    let c = (&m * m.transpose() + DMatrix::identity(3, 3)).cholesky().unwrap();
    let x = c.solve(&b);
    let l = c.l();
    let mut half_log_det = 0.0;
    for i in 0..3 {
        half_log_det += l[(i, i)].ln();
    }
    x.dot(&b) + half_log_det + c.l().sum() + c.solve(&(&b * 2.0)).sum()
}
case!(grad sq_named_cholesky / sq_named_cholesky_vjp / sq_named_cholesky_fwd / sq_named_cholesky_is_the_primal: (m: DMatrix<f64> = sq(); b: DVector<f64> = dv3()) -> f64);
#[differentiate]
fn sq_named_cholesky_solve(m: DMatrix<f64>, b: DVector<f64>) -> DVector<f64> {
    let c = (&m * m.transpose() + DMatrix::identity(3, 3)).cholesky().expect("positive definite");
    c.solve(&b) + c.solve(&m.column(0).into_owned())
}
case!(grad sq_named_cholesky_solve / sq_named_cholesky_solve_vjp / sq_named_cholesky_solve_fwd / sq_named_cholesky_solve_is_the_primal: (m: DMatrix<f64> = sq(); b: DVector<f64> = dv3()) -> DVector<f64>);
#[differentiate]
fn sq_named_cholesky_l(m: DMatrix<f64>) -> DMatrix<f64> {
    let c = (&m * m.transpose() + DMatrix::identity(3, 3)).cholesky().unwrap();
    c.l() * 2.0 + c.l().transpose()
}
case!(grad sq_named_cholesky_l / sq_named_cholesky_l_vjp / sq_named_cholesky_l_fwd / sq_named_cholesky_l_is_the_primal: (m: DMatrix<f64> = sq()) -> DMatrix<f64>);
#[differentiate]
fn sq_named_cholesky_branch(m: DMatrix<f64>, b: DVector<f64>, t: f64) -> f64 {
    let c = (&m * m.transpose() + DMatrix::identity(3, 3) * t.exp()).cholesky().unwrap();
    let mut s = 0.0;
    for j in 0..2 {
        if b[j] > 0.0 {
            s += c.solve(&(&b * t)).sum();
        } else {
            s += c.l()[(j, j)] * t;
        }
    }
    s
}
case!(grad sq_named_cholesky_branch / sq_named_cholesky_branch_vjp / sq_named_cholesky_branch_fwd / sq_named_cholesky_branch_is_the_primal: (m: DMatrix<f64> = sq(); b: DVector<f64> = dv3(); t: f64 = s()) -> f64);
#[differentiate]
fn ss_named_cholesky(m: SMatrix<f64, 3, 3>, b: SMatrix<f64, 3, 2>) -> SMatrix<f64, 3, 2> {
    let c = (m * m.transpose() + SMatrix::<f64, 3, 3>::identity()).cholesky().expect("positive definite");
    c.solve(&b) + c.l() * b
}
case!(grad ss_named_cholesky / ss_named_cholesky_vjp / ss_named_cholesky_fwd / ss_named_cholesky_is_the_primal: (m: SMatrix<f64, 3, 3> = ss(); b: SMatrix<f64, 3, 2> = sm32()) -> SMatrix<f64, 3, 2>);
#[differentiate]
fn sq32_named_cholesky(m: DMatrix<f32>, b: DVector<f32>) -> DVector<f32> {
    let c = (&m * m.transpose() + DMatrix::identity(3, 3)).cholesky().unwrap();
    c.solve(&b) + c.l() * &b
}
case!(bits sq32_named_cholesky / sq32_named_cholesky_vjp / sq32_named_cholesky_fwd / sq32_named_cholesky_is_the_primal: (m: DMatrix<f32> = sq32(); b: DVector<f32> = dv32()) -> DVector<f32>);
#[differentiate]
fn dm_kronecker(a: DMatrix<f64>, b: DMatrix<f64>) -> DMatrix<f64> { a.kronecker(&b) }
case!(grad dm_kronecker / dm_kronecker_vjp / dm_kronecker_fwd / dm_kronecker_is_the_primal: (a: DMatrix<f64> = dm(); b: DMatrix<f64> = sq()) -> DMatrix<f64>);
#[differentiate]
fn dv_kronecker(a: DVector<f64>, b: RowDVector<f64>) -> DMatrix<f64> { a.kronecker(&b) }
case!(grad dv_kronecker / dv_kronecker_vjp / dv_kronecker_fwd / dv_kronecker_is_the_primal: (a: DVector<f64> = dv(); b: RowDVector<f64> = rv()) -> DMatrix<f64>);
#[differentiate]
fn sm_kronecker(a: SMatrix<f64, 2, 3>, b: SVector<f64, 3>) -> SMatrix<f64, 6, 3> { a.kronecker(&b) }
case!(grad sm_kronecker / sm_kronecker_vjp / sm_kronecker_fwd / sm_kronecker_is_the_primal: (a: SMatrix<f64, 2, 3> = sm(); b: SVector<f64, 3> = sv()) -> SMatrix<f64, 6, 3>);
#[differentiate]
fn dm32_kronecker(a: DMatrix<f32>, b: DMatrix<f32>) -> DMatrix<f32> { a.kronecker(&b) }
case!(bits dm32_kronecker / dm32_kronecker_vjp / dm32_kronecker_fwd / dm32_kronecker_is_the_primal: (a: DMatrix<f32> = dm32(); b: DMatrix<f32> = sq32()) -> DMatrix<f32>);
