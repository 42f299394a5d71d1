//! Binding the arguments of a native function the way CPython binds those
//! of a function written in Python, with the same error messages.

use aio_interp::exceptions::type_error;
use aio_interp::object::*;
use aio_interp::Value;

/// A parameter list: positional-or-keyword names (the first `required`
/// of them without defaults) and keyword-only names.
pub struct Sig<'a> {
    /// The name in messages, such as `Random.randint`.
    pub qual: &'a str,
    /// Whether `args.pos[0]` is `self` (it then counts in messages, as in Python).
    pub has_self: bool,
    /// The positional-or-keyword parameters, in order.
    pub names: &'a [&'a str],
    /// How many of `names`, from the first, have no default.
    pub required: usize,
    /// The keyword-only parameters (all optional).
    pub kwonly: &'a [&'a str],
}

fn name_list(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        2 => format!("{} and {}", q[0], q[1]),
        n => format!("{}, and {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

impl Sig<'_> {
    /// The bound values, positional names first then keyword-only ones;
    /// `None` for an omitted optional parameter.
    pub fn bind(&self, args: Args) -> PyResult<Vec<Option<Value>>> {
        let skip = self.has_self as usize;
        let given = args.pos.len().saturating_sub(skip);
        let n = self.names.len();
        if given > n {
            let shown = |x: usize| x + skip;
            let takes = if self.required == n {
                format!("{} positional argument{}", shown(n), if shown(n) == 1 { "" } else { "s" })
            } else {
                format!("from {} to {} positional arguments", shown(self.required), shown(n))
            };
            let were = if shown(given) == 1 { "was" } else { "were" };
            return Err(type_error(format!("{}() takes {takes} but {} {were} given", self.qual, shown(given))));
        }
        let mut out: Vec<Option<Value>> = vec![None; n + self.kwonly.len()];
        for (i, v) in args.pos.into_iter().skip(skip).enumerate() {
            out[i] = Some(v);
        }
        for (k, v) in args.kw {
            let pos = self
                .names
                .iter()
                .position(|n| *n == k.as_str())
                .or_else(|| self.kwonly.iter().position(|n| *n == k.as_str()).map(|i| i + n));
            match pos {
                Some(i) => {
                    if out[i].is_some() {
                        return Err(type_error(format!("{}() got multiple values for argument '{}'", self.qual, k.as_str())));
                    }
                    out[i] = Some(v);
                }
                None => return Err(type_error(format!("{}() got an unexpected keyword argument '{}'", self.qual, k.as_str()))),
            }
        }
        let missing: Vec<&str> = (0..self.required).filter(|&i| out[i].is_none()).map(|i| self.names[i]).collect();
        if !missing.is_empty() {
            return Err(type_error(format!(
                "{}() missing {} required positional argument{}: {}",
                self.qual,
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                name_list(&missing)
            )));
        }
        Ok(out)
    }
}

/// Check that a method of no arguments got none (`Random.random() takes no arguments (1 given)`).
pub fn no_args(qual: &str, args: &Args, has_self: bool) -> PyResult<()> {
    let given = args.pos.len().saturating_sub(has_self as usize);
    if given > 0 || !args.kw.is_empty() {
        return Err(type_error(format!("{qual}() takes no arguments ({} given)", given + args.kw.len())));
    }
    Ok(())
}
