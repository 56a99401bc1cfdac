import { products } from '../../catalog-data'

export default (args: { category: string }) => products(args.category)
